"""Date and time as in English (mitel_portal/formats/en): the time zone is always named.

Only the formats with a time; Django's own give the rest of this language's formats.
"""

DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
