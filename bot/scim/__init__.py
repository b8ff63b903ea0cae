"""SCIM 2.0 provisioning (RFC 7643/7644) at `/scim/v2` on `adoptbot serve`, so Okta or Microsoft Entra ID
create, update and deactivate people and keep their teams: `resources` (the JSON shapes and PATCH
operations), `service` (people and teams in the roster's tables), `slack_link` (the email -> Slack user
link), `app` (the endpoints), `web` (the mount)."""
