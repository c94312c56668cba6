import json, random, sys
random.seed(int(sys.argv[1]))
N = int(sys.argv[2])
DATA = {"a": {"b": 1, "c": {"d": "deep"}}, "s": "str", "n": 8080, "f": 1.5, "big": 1e6, "l": [1, "x", None, True], "m": {"k": "v", "n": None, "z": 0}, "e": "", "z": 0, "t": True, "nul": None, "w": ["p", "q"], "em": {}, "el": []}
fields = [".a", ".a.b", ".a.c.d", ".s", ".n", ".f", ".big", ".l", ".m", ".m.k", ".m.n", ".m.nope", ".nope", ".nope.x", ".e", ".z", ".t", ".nul", ".nul.x", ".w", ".em", ".el", ".s.x", ".n.x", ".l.x", "$", "$.s", "$.a.b", ".", "$.nope"]
lits = ["1", "-2", "0", "1.5", "1e3", "0x10", "'a'", '"str"', '""', "`raw`", "true", "false", "nil", "1_000", "0o7", "3.0"]
def atom(d):
    r = random.random()
    if r < 0.45: return random.choice(fields)
    if r < 0.75: return random.choice(lits)
    return "(" + expr(d + 1) + ")"
def call(d):
    fns = [("printf", ['"%v"', '"%d"', '"%s"', '"%q"', '"%T"', '"%v %v"', '"%5.2f"', '"%x"']), ("print", None), ("println", None), ("len", 1), ("index", 2), ("eq", 2), ("eq", 3), ("ne", 2), ("lt", 2), ("le", 2), ("gt", 2), ("ge", 2), ("and", 2), ("or", 2), ("and", 3), ("or", 1), ("not", 1), ("upper", 1), ("repeat", 2), ("list", 2), ("toInt64", 1), ("html", 1), ("js", 1), ("urlquery", 2), ("include", ['"d"']), ("fail", ['"boom"']), ("index", 1), ("index", 3), ("len", 0), ("not", 2), ("call", 1)]
    name, spec = random.choice(fns)
    if spec is None:
        args = [atom(d) for _ in range(random.randint(0, 3))]
    elif isinstance(spec, list):
        args = [random.choice(spec)] + [atom(d) for _ in range(random.randint(0, 2))]
    else:
        args = [atom(d) for _ in range(spec)]
    return " ".join([name] + args)
def expr(d=0):
    if d > 2: return random.choice(fields + lits)
    r = random.random()
    if r < 0.35: e = atom(d)
    else: e = call(d)
    if random.random() < 0.2:
        e += " | " + random.choice(['printf "%v"', "len", "upper", 'printf "%v-%v" 1', "not", 'eq "str"', "toInt64", 'index .m', "html", 'or 0'])
    return e
def action(d=0):
    r = random.random()
    ws = lambda: random.choice(["", " ", "\n", " - ", "-"]) 
    if d > 1 or r < 0.45:
        lt = random.choice(["{{ ", "{{- ", "{{"])
        rt = random.choice([" }}", " -}}", "}}"])
        return lt + expr() + rt
    if r < 0.55:
        return "{{ if " + expr() + " }}" + body(d) + random.choice(["", "{{ else }}" + body(d), "{{ else if " + expr() + " }}" + body(d)]) + "{{ end }}"
    if r < 0.63:
        return "{{ with " + expr() + " }}" + body(d) + random.choice(["", "{{ else }}" + body(d)]) + "{{ end }}"
    if r < 0.75:
        v = random.choice(["", "$e := ", "$i, $e := "])
        inner = body(d)
        if v: inner += random.choice(["{{ $e }}", "{{ $i }}" if "$i" in v else "{{ $e }}", "{{ if $e }}{{ break }}{{ end }}", "{{ continue }}"])
        else: inner += random.choice(["", "{{ break }}", "{{ if . }}{{ continue }}{{ end }}x"])
        return "{{ range " + v + random.choice(fields) + " }}" + inner + random.choice(["", "{{ else }}E"]) + "{{ end }}"
    if r < 0.85:
        return "{{ $x := " + expr() + " }}{{ $x }}" + random.choice(["", "{{ $x = " + expr() + " }}{{ $x }}", "{{ $x.b }}", "{{ $x.k }}"])
    if r < 0.9:
        return "{{/* c */}}" + random.choice(["", " ", "\n"]) + "{{- /* d */ -}}"
    return "{{ template \"d\" " + expr() + " }}"
def body(d):
    return "".join(random.choice([action(d + 1), "x", " ", "\n"]) for _ in range(random.randint(0, 3)))
for _ in range(N):
    t = "".join(random.choice([action(), action(), "|", "a ", "\n"]) for _ in range(random.randint(1, 4)))
    t += '{{ define "d" }}[{{ . }}]{{ end }}'
    print(json.dumps({"t": t, "d": DATA, "m": random.choice(["zero", "zero", "zero", "error"])}))
