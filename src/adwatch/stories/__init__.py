"""Stories: one incident across outlets and languages (design.md section 9).

fingerprint  MinHash signatures of an article's text, for syndicated copies and rewrites
facts        the numbers an article states, which two reports of one incident share
link         whether two articles report the same incident
"""
