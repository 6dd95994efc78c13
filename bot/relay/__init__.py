"""Documents relayed through facilitators: letters between the two sides and the meeting script.

desk: what facilitators do (the console and `rjbot simulate` both come here), with its rules;
apply: the engine's effects on the stored documents, inside apply's transaction;
check: the contact-detail checks before anything is approved; simulate: the `::act` directives.
"""
