"""Text in four languages, with no knowledge of watchlists, stores or the network.

scripts     which writing system a character belongs to (Thai, Myanmar, Latin…)
encodings   bytes to text: declared and detected charsets, legacy Thai/Vietnamese
dates       every date and age parser: feed and page dates, --since/--until ages
language    th / vi / my / en for an article
zawgyi      Burmese in the Zawgyi font encoding, detected and converted to Unicode
normalize   the text a matcher compares, with offsets back to the original
segment     Thai word and Burmese syllable boundaries
snippets    cutting text around a match without splitting a cluster
width       terminal display width
untrusted   control and bidi characters removed from web text
"""
