import json, random, sys
random.seed(int(sys.argv[1]))
N = int(sys.argv[2])
DATA = {"a": {"b": 1}, "s": "str", "n": 8080, "l": [1, "x"], "m": {"k": "v"}}
toks = [".a", ".a.b", ".s", "$", "$x", "$y", ".", "1", "1.5", "-1", "+2", ".5", "1.", "0x", "0x1p", "1e", "08", "0b2", "'a'", "'ab'", "'\\n'", "'\\x41'", "''", '"s"', '"a\\qb"', '"\\x41\\101\\u00e9"', '"unterminated', "`raw`", "`unterminated", "true", "nil", "(", ")", "(", ")", "|", ":=", "=", ",", "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "printf", "len", "index", "eq", "not", "nope", "/*", "*/", ";", "@", "é", "x.y", ".a.", "$.", "..", "1..2", "\n", " ", "-", "{", "}"]
def act():
    inner = " ".join(random.choice(toks) for _ in range(random.randint(0, 5)))
    lt = random.choice(["{{", "{{ ", "{{- ", "{{-"])
    rt = random.choice(["}}", " }}", " -}}", "-}}", "}"]) 
    return lt + inner + rt
def good():
    return random.choice(["{{ if .a }}", "{{ end }}", "{{ else }}", "{{ range .l }}", "{{ with .m }}", "{{ $x := 1 }}", "{{ define \"q\" }}", "{{ block \"b\" . }}", "{{ template \"q\" }}", "text\n", "{{/* c */}}", "{{- /* c */ -}}", "{{ break }}", "{{ continue }}", "{{ else if .s }}"])
for _ in range(N):
    t = "".join(random.choice([act(), good(), good(), "x", "\n"]) for _ in range(random.randint(1, 6)))
    print(json.dumps({"t": t, "d": DATA, "m": "zero"}))
