"""The server-rendered pages: templates, static assets, words in English and Hebrew."""
