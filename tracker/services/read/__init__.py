"""The read side, one module per thing it answers about: treaties (the list, the overview, the
lookup by id), a treaty's status (now, or as of a date from its history), events (a treaty's
history, lists, feeds), countries, sources, and the one cache of status answers.

Read services take the Session of a read unit of work (db.unit_of_work) and
never write; the web and the command line get every answer through them.
"""
