"""Stories: articles on the same event grouped in the stream (see README, "Stories").

Pure like the rest of the core. :mod:`.terms` turns one article into weighted term counts (the
stateless part, run with the fingerprint); :mod:`.state` holds the stories of the window and
assigns articles to them; :mod:`.codec` is how assignments and merges travel on the
fingerprint log so that every worker holds the same stories.
"""
