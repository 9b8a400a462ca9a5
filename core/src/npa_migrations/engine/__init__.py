"""The engine: what runs migrations against one database.

Discovery results and history go in, applied or reverted migrations come out. The
parts: the executor (the public facade), the history store and the event log, history
validation and migration ordering, repair and baseline, and the script writer.
"""
