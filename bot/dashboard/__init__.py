"""The web dashboard, served by `adoptbot serve` under `/dashboard`: sign in with Slack, then the pages a
person's rights allow (change managers: every team; leaders: the teams they lead; everyone else: their own
progress). Server-rendered (Flask and Jinja2), no JavaScript needed to read it.

Modules: `app` (the Flask application, its cookie settings, CSRF and the per-request viewer), `signin`
(Sign in with Slack over OpenID Connect), `secret` (the key that signs the session cookie), `rights`
(who is looking, re-read from the database on every request), `pages` (the pages), `web` (the mount the
wiring adds to `adoptbot serve`).
"""
