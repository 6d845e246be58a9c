"""Commands about the catalogue: ``salesradar products non-product`` lists the codes that are not
products (postage, fees, discounts) and lets the company mark codes both ways."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.options import (
    JsonOption,
    WorkspaceOption,
    open_workspace,
    writing_workspace,
)
from salesradar.errors import UserInputError


def product_commands(app: typer.Typer) -> None:
    """Register ``salesradar products ...`` on the main app."""
    products = typer.Typer(help="The catalogue: codes that are not products.",
                           no_args_is_help=True)
    app.add_typer(products, name="products")

    @products.command("non-product")
    def non_product_command(
        show: Annotated[bool, typer.Option("--list", help="List the non-product codes with the "
                        "reason each was detected (what the command does without an option).")]
        = False,
        add: Annotated[str | None, typer.Option("--add", metavar="SKU", help="Mark SKU as not "
                       "a product: never offered, never a stopped item.")] = None,
        remove: Annotated[str | None, typer.Option("--remove", metavar="SKU", help="Mark SKU as "
                          "a real product, even when it looks like a fee.")] = None,
        reset: Annotated[str | None, typer.Option("--reset", metavar="SKU", help="Forget the "
                         "company's decision on SKU: detection decides again.")] = None,
        by: Annotated[str | None, typer.Option("--by", help="Who decides (default: the user "
                      "name).")] = None,
        workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Codes that are not products (postage, fees, discounts, manual adjustments): detected
        from the data, and settable both ways with --add / --remove."""
        from salesradar.models.non_product import (
            clear_non_product,
            non_product_report,
            set_non_product,
        )

        if sum(x is not None for x in (add, remove, reset)) > 1:
            raise UserInputError("use one of --add, --remove, --reset at a time")
        del show  # listing is what the command always ends with
        changes = any(x is not None for x in (add, remove, reset))
        # a decision is written on a private copy published at the end (docs/web.md)
        with (writing_workspace if changes else open_workspace)(workspace) as ws:
            done: dict[str, Any] = {}
            if add is not None or remove is not None:
                sku = str(add if add is not None else remove)
                set_non_product(ws, sku, add is not None, set_by=by or getpass.getuser())
                done = {"sku": sku, "non_product": add is not None}
            elif reset is not None:
                done = {"sku": reset, "reset": clear_non_product(ws, reset)}
            report = non_product_report(ws).to_pylist()

        def render() -> None:
            if done.get("reset") is False:
                output.console.print(f"no decision was set on {done['sku']}")
            elif done:
                what = "not a product" if done.get("non_product") else \
                    "a product" if "non_product" in done else "decided by detection again"
                output.console.print(f"{done['sku']}: {what}")
            output.console.print(output.table(
                "Non-product codes (never offered, never a stopped item)",
                ["sku", "name", "non-product", "source", "reason", "lines", "customers"],
                [(r["sku"], r["name"], "yes" if r["non_product"] else "no (kept as product)",
                  r["source"], r["reason"], output.fmt(r["lines"]),
                  output.fmt(r["customers"])) for r in report],
            ))

        output.emit({"changed": done or None, "codes": report}, as_json, render)
