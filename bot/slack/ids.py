"""Every action_id, callback_id and block_id Adoptbot uses, in one place.

Convention: `<feature>.<thing>` (lower case, dots), so a payload in a log says which feature it belongs
to, and two features can never collide. Feature helpers add a section here for their own IDs and refer
to them by name from both the block builders (bot/<feature>/blocks.py) and the listeners
(bot/<feature>/listeners.py); never spell an ID as a literal elsewhere.

Public names (documented in the README, also in manifest.yml): the message shortcut `share_win`.
"""

from __future__ import annotations

from typing import Final

# --- Shortcuts (manifest.yml names them; keep both in step) --------------------------------------
SHARE_WIN_SHORTCUT: Final = "share_win"

# --- Profile: role and team ------------------------------------------------------------------------
ROLE_MODAL: Final = "profile.role_modal"  # callback_id of the "My role and team" modal
ROLE_BLOCK: Final = "profile.role"  # input block holding the role select
ROLE_SELECT: Final = "profile.role_select"  # its action_id
TEAM_BLOCK: Final = "profile.team"
TEAM_SELECT: Final = "profile.team_select"
OPEN_ROLE_MODAL: Final = "profile.open_role_modal"  # button (App Home, welcome DM) that opens the modal

# --- Errors ---------------------------------------------------------------------------------------
ERROR_MODAL: Final = "errors.modal"  # the one-line "please try again" view shown instead of a modal

# --- Nudges (bot/nudges/blocks.py, bot/nudges/listeners.py) --------------------------
NUDGE_ACTIONS_BLOCK: Final = "nudges.actions"  # Tried it / Not for me / Remind me later / Share a win
NUDGE_RATING_BLOCK: Final = "nudges.rating"  # helpful / not helpful
NUDGE_OUTCOME_BLOCK: Final = "nudges.outcome"  # what the person chose, shown after a click
NUDGE_TRIED: Final = "nudges.tried"
NUDGE_NOT_FOR_ME: Final = "nudges.not_for_me"
NUDGE_LATER: Final = "nudges.later"
NUDGE_SHARE_WIN: Final = "nudges.share_win"
NUDGE_HELPFUL: Final = "nudges.helpful"
NUDGE_NOT_HELPFUL: Final = "nudges.not_helpful"
NUDGE_PAUSE: Final = "nudges.pause"  # App Home: pause nudges for two weeks
NUDGE_RESUME: Final = "nudges.resume"  # App Home: resume nudges
NUDGE_HOME_BLOCK: Final = "nudges.home"  # App Home: the pause / resume button

# --- Pulses (bot/pulses/blocks.py, bot/pulses/listeners.py) -------------------------
PULSE_ANSWER: Final = "pulses.answer"  # "Answer (1 minute)" / "Change my answer" button; value = run id
PULSE_MODAL: Final = "pulses.modal"  # callback_id of the survey modal; private_metadata = run id
PULSE_QUESTION_BLOCK: Final = "pulses.q."  # prefix: block_id of a question's input block + question id
PULSE_QUESTION_INPUT: Final = "pulses.input"  # action_id of every question's input element
PULSE_INFO_MODAL: Final = "pulses.info"  # the information-only modal (closed, not invited, ...)

# --- Broadcasts (bot/broadcasts/blocks/__init__.py, bot/broadcasts/listeners.py) -------------
BROADCAST_MODAL: Final = "broadcasts.modal"  # callback_id of the composer; private_metadata = draft id or ""
BROADCAST_INPUT: Final = "broadcasts.input"  # action_id of every composer input except the team menu
BROADCAST_TEAMS_SELECT: Final = "broadcasts.teams_select"  # team menu (external beyond 100 teams)
BROADCAST_MESSAGE_BLOCK: Final = "broadcasts.message"  # composer input blocks ...
BROADCAST_EVERYONE_BLOCK: Final = "broadcasts.everyone"
BROADCAST_TEAMS_BLOCK: Final = "broadcasts.teams"
BROADCAST_ROLES_BLOCK: Final = "broadcasts.roles"
BROADCAST_CHANNEL_BLOCK: Final = "broadcasts.channel"
BROADCAST_WHEN_BLOCK: Final = "broadcasts.when"
BROADCAST_DATE_BLOCK: Final = "broadcasts.date"
BROADCAST_TIME_BLOCK: Final = "broadcasts.time"
BROADCAST_ACK_BLOCK: Final = "broadcasts.ask_ack"
BROADCAST_REMINDER_BLOCK: Final = "broadcasts.reminder"
BROADCAST_PREVIEW_BLOCK: Final = "broadcasts.preview"  # Send / Edit / Cancel under the preview DM
BROADCAST_SEND: Final = "broadcasts.send"  # value = broadcast id (also for the three below)
BROADCAST_EDIT: Final = "broadcasts.edit"
BROADCAST_CANCEL: Final = "broadcasts.cancel"  # preview DM, and App Home's list of scheduled broadcasts
BROADCAST_GOT_IT: Final = "broadcasts.got_it"  # a recipient's "Got it" (DM and reminder)
BROADCAST_GOT_IT_BLOCK: Final = "broadcasts.got_it_block"

# --- Wins (bot/wins/blocks/__init__.py, bot/wins/listeners.py) ---------------------------------
WIN_MODAL: Final = "wins.modal"  # callback_id of "Share a win"; private_metadata = JSON (source link)
WIN_EDIT_MODAL: Final = "wins.edit_modal"  # a change manager's light edit; private_metadata = win id
WIN_REJECT_MODAL: Final = "wins.reject_modal"  # the reason for a rejection; private_metadata = win id
WIN_INFO_MODAL: Final = "wins.info"  # information-only modal (not on the roster yet, ...)
WIN_WHAT_BLOCK: Final = "wins.what"
WIN_WHAT_INPUT: Final = "wins.what_input"
WIN_TOOL_BLOCK: Final = "wins.tool"
WIN_TOOL_INPUT: Final = "wins.tool_input"
WIN_HOURS_BLOCK: Final = "wins.hours"
WIN_HOURS_INPUT: Final = "wins.hours_input"
WIN_TEAM_BLOCK: Final = "wins.team"
WIN_TEAM_SELECT: Final = "wins.team_select"
WIN_SHARE_BLOCK: Final = "wins.share"
WIN_SHARE_INPUT: Final = "wins.share_input"
WIN_REASON_BLOCK: Final = "wins.reason"
WIN_REASON_INPUT: Final = "wins.reason_input"
WIN_REVIEW_BLOCK: Final = "wins.review."  # prefix: block_id of a win's Approve / Edit / Reject + win id
WIN_APPROVE: Final = "wins.approve"  # value = win id (moderator DM and the `/adopt wins` queue)
WIN_EDIT: Final = "wins.edit"
WIN_REJECT: Final = "wins.reject"
WIN_TRY_THIS: Final = "wins.try_this"  # "Try this too" on a shared win; value = win id
WIN_OPEN_MODAL: Final = "wins.open_modal"  # "Share a win" button (App Home)
WIN_USE_POLISHED: Final = "wins.use_polished"  # author's confirmation DM; value = win id
WIN_KEEP_MINE: Final = "wins.keep_mine"
WIN_POLISH_BLOCK: Final = "wins.polish"  # the actions block holding those two buttons

# --- Digest and dashboards (bot/digest/blocks.py, bot/digest/listeners.py) -------------
DIGEST_PREVIEW: Final = "digest.preview"  # App Home: "Preview this week's digest" (opens a modal)
DIGEST_OPEN_LATEST: Final = "digest.open_latest"  # App Home: link button to the latest digest DM
DIGEST_HOME_BLOCK: Final = "digest.home"  # the actions block holding the preview button
DIGEST_MODAL: Final = "digest.modal"  # callback_id of the preview modal
