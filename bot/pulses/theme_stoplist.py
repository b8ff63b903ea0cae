"""The words a comment theme never starts or ends with, and the words that are never a theme alone.

Read by `bot.pulses.themes` on top of YAKE's own English stop-list (function words such as "the", "of",
"would", "please", "thanks", "really", "think"). Edit these lists freely: one word a line or several,
lower case; a word here only ever removes themes, it never adds one.
"""

from __future__ import annotations

# Filler and function words: never the first or last word of a theme, never a theme alone. YAKE's English
# list covers most function words; these are the ones people write in survey comments that it lacks, or
# that matter too much to rely on another list for.
FILLER = """
    a about actually also always am an and any anyway are as at awesome bad be been being best better bit
    but by can cannot could did do does doing don't done easy easier etc even ever every fine for from
    generally get gets getting give go going good got great had happy has have having hope hopefully i i'd
    i'll i'm i've if in into is it it's just kind kinda know let let's like likely lot lots love made make
    makes making maybe me might more most much must my need needed needs nice no not of ok okay on or
    other our perhaps please pretty probably quite rather really right said say see seem seems should so
    some something sometimes sort stuff sure thank thanks that the their them then there these they thing
    things think this those though thx to too try trying unsure us use used useful using very want wanted
    wants was we well were what when where which while who why will wish with would yeah yes yet you your
    ai
"""

# Generic words of the workplace that say nothing on their own ("team", "time", "work") but make a good
# theme with another word ("training time", "team lead"): never a theme alone, fine inside a longer one.
NOT_ALONE = """
    area bit case click day days everyone everything help helps hour hours job minute minutes month months
    others part people person place point problem problems question questions start team teams time times
    today tool tools week weeks work working year years
"""

# Words YAKE's English list stops that are themes in comments about work ("examples for my role",
# "training course"): taken out of that list.
THEME_WORDS = """
    changes course example value
"""

FILLER_WORDS = frozenset(FILLER.split())
THEME_WORDS_SET = frozenset(THEME_WORDS.split())
NOT_ALONE_WORDS = frozenset(NOT_ALONE.split())
