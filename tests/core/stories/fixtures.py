"""Hand-written articles for the story tests: one event told by several outlets, and
different events that share a template (two daily market reports) or a topic (two matches of
one league on the same day). Written for these tests; figures and events are invented."""

from __future__ import annotations

MARKETS_MONDAY = (
    "FTSE 100 closes up 0.8% at 7,412 as miners rally",
    "London's FTSE 100 index closed 58.3 points higher at 7,412.45 on Monday, led by mining "
    "stocks. Anglo American rose 4.1% and Rio Tinto gained 3.2% after copper prices climbed "
    "to a three-month high.\n\n"
    "The pound fell 0.3% against the dollar to $1.2645. Shares in Vodafone slipped 1.9% after "
    "a broker downgrade, while the FTSE 250 added 0.5% to 19,870.",
)
MARKETS_MONDAY_OTHER_OUTLET = (
    "Miners lift FTSE 100 to 7,412",
    "Mining shares pushed the FTSE 100 up 58.3 points, or 0.8%, to finish at 7,412.45 on "
    "Monday as copper prices rose. Anglo American added 4.1% and Rio Tinto 3.2%.\n\n"
    "Vodafone was among the fallers, down 1.9%. Sterling slipped 0.3% to $1.2645 and the "
    "FTSE 250 ended 0.5% higher at 19,870.",
)
MARKETS_TUESDAY = (
    "FTSE 100 closes down 0.4% at 7,383 as banks slide",
    "London's FTSE 100 index closed 29.7 points lower at 7,383.12 on Tuesday, dragged down by "
    "banks. Barclays fell 2.6% and Lloyds lost 1.8% after bond yields dropped to a "
    "two-week low.\n\n"
    "The pound rose 0.2% against the dollar to $1.2671. Shares in BP edged up 0.7% after a "
    "broker upgrade, while the FTSE 250 lost 0.6% to 19,751.",
)
MATCH_ARSENAL = (
    "Arsenal beat Chelsea 2-1 in the Premier League",
    "Bukayo Saka scored twice as Arsenal came from behind to beat Chelsea 2-1 at the Emirates "
    "Stadium on Saturday. Cole Palmer had given Chelsea the lead from the penalty spot after "
    "20 minutes.\n\n"
    "Saka equalised before half-time and headed the winner in the 78th minute. Mikel Arteta "
    "said his side showed character in the Premier League match.",
)
MATCH_ARSENAL_OTHER_OUTLET = (
    "Saka double sinks Chelsea",
    "Two goals from Bukayo Saka gave Arsenal a 2-1 win over Chelsea at the Emirates on "
    "Saturday after Cole Palmer's early penalty.\n\n"
    "Arteta praised the character of his players. Saka's header in the 78th minute settled "
    "the Premier League game in north London.",
)
MATCH_LIVERPOOL = (
    "Liverpool held 1-1 by Everton in the Premier League",
    "Mohamed Salah's penalty earned Liverpool a 1-1 draw with Everton at Anfield on Saturday. "
    "Dominic Calvert-Lewin had put Everton ahead with a header after 33 minutes.\n\n"
    "Salah levelled from the spot in the 64th minute. Jurgen Klopp said his side lacked "
    "sharpness in the Premier League match.",
)
