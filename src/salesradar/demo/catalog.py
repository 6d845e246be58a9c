"""Master data of the demo company: the plan (sizes and dates), reps, products and customers.

The company is an Israeli food-service and retail distributor: an inbound sales centre that
serves many small customers by phone and web, and senior account managers who visit the big
ones. Everything is drawn from one ``numpy.random.Generator`` in a fixed order, so a seed
gives the same company every time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.demo._arrow import BoolArray, FloatArray, IntArray, day_number, ids, pick
from salesradar.errors import UserInputError

CATEGORIES: tuple[str, ...] = (
    "Dairy", "Beverages", "Snacks", "Frozen", "Bakery", "Meat & Poultry", "Canned Goods",
    "Coffee & Tea", "Cleaning", "Paper Goods", "Packaging", "Personal Care",
)
# Typical list price (₪ per case) and gross margin of each category.
CATEGORY_PRICE = np.array([84, 54, 42, 132, 48, 228, 54, 168, 96, 126, 192, 90], dtype=np.float64)
CATEGORY_MARGIN = np.array([.22, .28, .32, .25, .30, .18, .30, .35, .38, .33, .30, .40])
# Share of demand a category draws before affinities are applied.
CATEGORY_POPULARITY = np.array([10, 9, 8, 6, 7, 5, 6, 5, 7, 6, 5, 4], dtype=np.float64)
# Planted cross-purchase affinities: buying A multiplies the odds of also buying B.
AFFINITY_PAIRS: tuple[tuple[str, str, float], ...] = (
    ("Dairy", "Bakery", 4.0),
    ("Beverages", "Snacks", 4.0),
    ("Cleaning", "Paper Goods", 5.0),
    ("Packaging", "Paper Goods", 3.0),
    ("Coffee & Tea", "Dairy", 3.0),
    ("Frozen", "Meat & Poultry", 3.5),
)
ITEMS: dict[str, tuple[str, ...]] = {
    "Dairy": ("Milk 3% 1L", "Cottage Cheese 250g", "Yogurt 200g", "Labaneh 500g", "Butter 200g",
              "Cream Cheese 5%", "Feta 250g", "Tzfatit Cheese", "Leben 1L", "Chocolate Milk"),
    "Beverages": ("Mineral Water 1.5L x6", "Orange Juice 1L", "Cola 1.5L", "Soda 330ml x24",
                  "Grape Juice 1L", "Iced Tea 500ml", "Lemonade 1.5L", "Energy Drink"),
    "Snacks": ("Peanut Puffs 80g", "Pretzels 400g", "Potato Chips 50g", "Wafers 200g",
               "Halva 500g", "Crackers 250g", "Sesame Bars x10", "Mixed Nuts 500g"),
    "Frozen": ("Frozen Pizza", "Schnitzel 1kg", "Burekas Dough 1kg", "Frozen Peas 800g",
               "Ice Cream 2L", "Malawach x5", "Frozen Fries 2.5kg", "Kubbeh 1kg"),
    "Bakery": ("Challah", "Pita x10", "Rye Bread", "Rugelach 400g", "Baguette", "Bagel x5",
               "Sourdough Loaf", "Cookies 500g"),
    "Meat & Poultry": ("Chicken Breast 1kg", "Ground Beef 1kg", "Turkey Slices 200g",
                       "Chicken Thighs 1kg", "Kebab 1kg", "Salami 500g"),
    "Canned Goods": ("Hummus 400g", "Tahini 500g", "Canned Corn 560g", "Pickles 1kg",
                     "Tuna x4", "Tomato Paste 800g", "Chickpeas 560g", "Olives 560g"),
    "Coffee & Tea": ("Turkish Coffee 500g", "Espresso Beans 1kg", "Instant Coffee 200g",
                     "Tea Bags x100", "Nana Tea x25", "Coffee Capsules x50"),
    "Cleaning": ("Dish Soap 4L", "Floor Cleaner 4L", "Bleach 4L", "Glass Cleaner 750ml",
                 "Degreaser 4L", "Hand Soap 5L", "Dishwasher Tabs x100"),
    "Paper Goods": ("Toilet Paper x32", "Paper Towels x12", "Napkins x500", "Tissues x10",
                    "Wipes x72", "Jumbo Roll x6"),
    "Packaging": ("Takeaway Box x500", "Paper Cups x1000", "Plastic Bags x1000",
                  "Aluminium Tray x100", "Cling Film 300m", "Pizza Box x100", "Lids x1000"),
    "Personal Care": ("Shampoo 1L", "Toothpaste x12", "Hand Cream", "Deodorant x6",
                      "Shower Gel 1L", "Cotton Pads x12"),
}
BRANDS = ("Galil", "Negev", "Carmel", "Sharon", "Golan", "Arava", "Tavor", "Kinneret", "Gilboa",
          "Yarden", "Eilat", "Hermon")
SURNAMES = ("Cohen", "Levi", "Mizrahi", "Peretz", "Biton", "Dahan", "Avraham", "Friedman",
            "Azulay", "Katz", "Yosef", "Malka", "Hadad", "Ohayon", "Shapiro", "Amar", "Ben David",
            "Gabay", "Vaknin", "Segal", "Rosenberg", "Ashkenazi", "Klein", "Barak", "Golan",
            "Harari", "Navon", "Tal", "Sasson", "Elkayam")
BRANCH_TOWNS = ("Haifa", "Eilat", "Ashdod", "Netanya", "Modiin", "Herzliya", "Rehovot",
                "Ashkelon", "Hadera", "Afula", "Karmiel", "Nahariya", "Dimona", "Arad", "Ariel",
                "Yavne", "Lod", "Ramla", "Tiberias", "Safed")
FIRST_NAMES = ("Yossi", "Noa", "David", "Tamar", "Moshe", "Michal", "Avi", "Yael", "Eitan",
               "Shira", "Omer", "Maya", "Itai", "Rivka", "Amit", "Dana", "Uri", "Hila", "Ronen",
               "Sarit", "Gal", "Liat", "Yonatan", "Orly", "Nir", "Efrat", "Ariel", "Keren")
INDUSTRIES = ("Grocery", "Minimarket", "Restaurant", "Hotel", "Catering", "Office",
              "Institution", "Cafe")
INDUSTRY_WORDS = ("Foods Ltd", "Minimarket", "Restaurant", "Hotels", "Catering Ltd",
                  "Offices", "Institutions", "Cafe")
# Weight of each category in each industry's demand (rows: industries, columns: categories).
INDUSTRY_TASTE = np.array([
    [3, 3, 3, 2, 3, 2, 3, 1, 1, 1, 0.5, 2],   # Grocery
    [3, 4, 4, 2, 3, 1, 2, 1, 1, 1, 0.5, 1],   # Minimarket
    [2, 2, 0.5, 3, 2, 4, 3, 1, 2, 2, 3, 0.2],  # Restaurant
    [3, 2, 1, 2, 3, 3, 2, 3, 3, 3, 1, 3],     # Hotel
    [2, 2, 1, 3, 2, 4, 3, 1, 2, 2, 4, 0.2],   # Catering
    [1, 3, 3, 0.5, 1, 0.2, 0.5, 4, 3, 3, 1, 1],  # Office
    [3, 2, 1, 3, 3, 3, 3, 1, 3, 3, 2, 1],     # Institution
    [4, 3, 2, 1, 4, 0.5, 1, 4, 1, 2, 3, 0.2],  # Cafe
])
REGIONS = ("Tel Aviv", "Center", "Sharon", "Jerusalem", "Shfela", "Haifa & North", "South")
REGION_LOGISTICS = np.array([1.0, 1.0, 1.1, 1.2, 1.1, 1.5, 1.6])  # delivery cost multiplier
TEAMS = ("Sales Management", "Inbound Centre", "Key Accounts")


@dataclass(frozen=True)
class Plan:
    """Sizes and dates of one generated company."""

    customers: int
    skus: int
    reps: int
    start: int  # first day of history (days since epoch)
    end: int  # last day of history
    horizon_end: int  # last simulated day; the future after `end` only feeds truth files

    @property
    def days(self) -> int:
        return self.end - self.start + 1

    @property
    def cid_width(self) -> int:
        """Digits of a customer id (C00001)."""
        return max(5, len(str(self.customers)))

    @property
    def sku_width(self) -> int:
        """Digits of a SKU (SKU-0001)."""
        return max(4, len(str(self.skus)))

    @classmethod
    def make(cls, customers: int, years: int, skus: int | None, reps: int | None,
             end: datetime.date) -> Plan:
        """Default the counts from the number of customers; history ends on ``end``."""
        n_skus = skus if skus is not None else max(60, min(customers // 10, 20_000))
        n_reps = reps if reps is not None else max(8, min(customers // 25, 50))
        if customers < 10 or n_skus < 24 or n_reps < 7 or years < 1:
            raise UserInputError("the demo needs at least 10 customers, 24 SKUs, 7 reps and 1 year")
        first = datetime.date(end.year - years, end.month, 1) + datetime.timedelta(days=32)
        start = datetime.date(first.year, first.month, 1)
        if start > end:  # end earlier than the last day of its month
            start = datetime.date(end.year - years, end.month, 1)
        return cls(customers, n_skus, n_reps, day_number(start), day_number(end),
                   day_number(end) + 182)


@dataclass(frozen=True)
class Reps:
    """Reps: a director, two team leads, the inbound centre and the account managers."""

    ids: pa.Array
    names: pa.Array
    team: IntArray  # index into TEAMS
    manager: IntArray  # row of the manager, -1 for none
    role: list[str]
    active_from: IntArray
    active_to: IntArray  # -1 while active
    centre: IntArray  # rows of inbound-centre reps who own customers and leads
    account: IntArray  # rows of account managers who own customers
    leaver: int  # an account manager who leaves mid-history...
    successor: int  # ...and the new hire who takes over the leaver's customers
    handover: int  # day of the handover
    slow: int  # a centre rep who is slow to contact leads


def build_reps(plan: Plan, rng: np.random.Generator) -> Reps:
    """Reps R01..: R01 directs, R02 leads the centre, R03 the account managers."""
    n = plan.reps
    rest = n - 3
    n_centre = max(2, round(rest * 0.55))
    centre = np.arange(3, 3 + n_centre)
    account = np.arange(3 + n_centre, n)
    team = np.zeros(n, dtype=np.int64)
    team[1], team[2] = 1, 2
    team[centre], team[account] = 1, 2
    manager = np.where(team == 1, 1, 2)
    manager[0], manager[1], manager[2] = -1, 0, 0
    role = ["director", "team_lead", "team_lead"] + ["rep"] * rest
    active_from = plan.start - rng.integers(200, 2500, n)
    leaver, successor = int(account[0]), int(account[-1])
    handover = plan.start + int(plan.days * 0.55)
    active_from[successor] = handover - 14
    active_to = np.full(n, -1, dtype=np.int64)
    active_to[leaver] = handover
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.permutation(np.arange(n) % len(SURNAMES))
    names = pc.binary_join_element_wise(pick(FIRST_NAMES, first), pick(SURNAMES, last), " ")
    return Reps(ids=_rep_ids(n), names=names, team=team, manager=manager, role=role,
                active_from=active_from, active_to=active_to, centre=centre, account=account,
                leaver=leaver, successor=successor, handover=handover, slow=int(centre[-1]))


def _rep_ids(n: int) -> pa.Array:
    return ids("R", np.arange(1, n + 1), 2 if n < 100 else 3)


@dataclass(frozen=True)
class Products:
    """The catalogue with popularity skew, price/cost paths and discontinued items."""

    category: IntArray
    item: IntArray  # index into the category's ITEMS
    brand: IntArray
    base_price: FloatArray  # list price at the start of history
    base_cost: FloatArray
    popularity: FloatArray  # within-category weight (Zipf-like)
    discontinued_at: IntArray  # day; a large number for items still sold
    successor: IntArray  # the item customers switch to after discontinuation
    eroding: int  # category whose cost grows faster than its price


PRICE_GROWTH = 0.03  # list prices rise about 3% a year
COST_GROWTH = 0.025
ERODING_COST_GROWTH = 0.09  # the eroding category's cost rises 9% a year, its prices 3%
NEVER = 1 << 30


def build_products(plan: Plan, rng: np.random.Generator) -> Products:
    """SKUs spread over categories by popularity, ~8% discontinued in mid-history."""
    n = plan.skus
    n_cat = len(CATEGORIES)
    share = CATEGORY_POPULARITY / CATEGORY_POPULARITY.sum()
    category = np.concatenate([np.arange(n_cat), rng.choice(n_cat, n - n_cat, p=share)])
    category = np.sort(category)
    rank_in_cat = np.arange(n) - np.searchsorted(category, category)
    popularity = 1.0 / (1.0 + rank_in_cat) ** 1.4 * rng.lognormal(0, 0.3, n)
    item_count = np.array([len(ITEMS[c]) for c in CATEGORIES])
    item = rng.integers(0, 1 << 30, n) % item_count[category]
    brand = rng.integers(0, len(BRANDS), n)
    base_price = np.round(CATEGORY_PRICE[category] * rng.lognormal(0, 0.45, n), 1) + 0.9
    margin = np.clip(CATEGORY_MARGIN[category] + rng.normal(0, 0.05, n), 0.08, 0.6)
    base_cost = np.round(base_price * (1 - margin), 2)
    # Discontinue some of the less popular items (never the top three of a category).
    candidates = np.flatnonzero(rank_in_cat >= 3)
    n_disc = max(2, int(n * 0.08))
    disc = rng.choice(candidates, min(n_disc, len(candidates)), replace=False)
    discontinued_at = np.full(n, NEVER, dtype=np.int64)
    discontinued_at[disc] = plan.start + rng.integers(int(plan.days * 0.25),
                                                      int(plan.days * 0.8), len(disc))
    # The successor is the most popular item of the same category that stays in the range.
    successor = np.arange(n)
    cat_first = np.searchsorted(category, np.arange(n_cat))
    successor[disc] = cat_first[category[disc]] + rng.integers(0, 3, len(disc))
    eroding = CATEGORIES.index("Dairy")
    return Products(category, item, brand, base_price, base_cost, popularity,
                    discontinued_at, successor, eroding)


def years_since_start(days: IntArray, plan: Plan) -> IntArray:
    """Calendar years between the start of history and each day (0 in the first year)."""
    def year(d: IntArray) -> IntArray:
        return np.asarray(np.asarray(d).astype("datetime64[D]").astype("datetime64[Y]")
                          .astype(np.int64))

    return np.asarray(year(days) - year(np.array([plan.start]))[0], dtype=np.int64)


def price_factor(days: IntArray, plan: Plan) -> FloatArray:
    """List-price multiplier on each day: a 3%-a-year increase, applied every January 1st."""
    return np.asarray((1 + PRICE_GROWTH) ** years_since_start(days, plan), dtype=np.float64)


def cost_factor(days: IntArray, plan: Plan, eroding: BoolArray) -> FloatArray:
    """Unit-cost multiplier: inflation every January, steady growth for the eroding category."""
    t = (days - plan.start) / 365.0
    yearly = (1 + COST_GROWTH) ** years_since_start(days, plan)
    return np.asarray(np.where(eroding, (1 + ERODING_COST_GROWTH) ** t, yearly),
                      dtype=np.float64)


def product_names(products: Products) -> pa.Array:
    """``<brand> <item>`` names, e.g. "Galil Cottage Cheese 250g"."""
    flat = [name for cat in CATEGORIES for name in ITEMS[cat]]
    offsets = np.cumsum([0] + [len(ITEMS[c]) for c in CATEGORIES])[:-1]
    items = pick(flat, offsets[products.category] + products.item)
    return pc.binary_join_element_wise(pick(BRANDS, products.brand), items, " ")
