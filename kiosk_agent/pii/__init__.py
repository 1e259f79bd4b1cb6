"""Finding personal data in a transcript, for the anonymize stage.

``name_finder`` finds people (directory employees in every Czech case form, nicknames
and misheard spellings; other people by cues and a first-name lexicon); ``patterns``
and ``asr_patterns`` find numbers, e-mails, addresses, IDs and plates, also as speech
recognition writes them. Nothing here loads a model or touches a vendor package.
"""
