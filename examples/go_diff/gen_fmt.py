import json, random, sys
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
floats = [0.0, 1.0, -1.0, 0.5, 1.5, 2.5, 1e6, 999999.0, 123456789.0, 1e21, 1e20, 1e-4, 1e-5, 1e-7, 3.14159265358979, -2.71828, 8080.0, 0.1, 0.2, 0.3, 100.0, 1234.5678, 5e-324, 1.7976931348623157e308, 0.05, 1.005, 2.675, 123456.0, 1e100, 0.000123456]
strs = ["", "a", "hello", "héllo", "a\"b", "tab\there", "line\nbreak", "\u263a", "😀x", "`back`", "\x7f", "a b c", "<>&", "0x1F"]
ints = [0, 1, -1, 7, 42, 255, -255, 65, 8, 1000000, 2**31, -2**40, 0x1F600, 9223372036854775807, -9223372036854775808]
def val(depth=0):
    t = random.choice(["int","int","int64","float","float","float","string","string","bool","nil","fspecial","bytes"] + (["list","strs","map"] if depth < 2 else []))
    if t in ("int","int64"): return {"t":t,"v":random.choice(ints)}
    if t == "float": return {"t":t,"v":random.choice(floats)}
    if t == "fspecial": return {"t":t,"v":random.choice(["nan","inf","-inf","-0"])}
    if t == "string": return {"t":t,"v":random.choice(strs)}
    if t == "bool": return {"t":t,"v":random.choice([True,False])}
    if t == "nil": return {"t":t,"v":None}
    if t == "bytes": return {"t":t,"v":random.choice(["hi","", "abc"])}
    if t == "list": return {"t":t,"v":[val(depth+1) for _ in range(random.randint(0,3))]}
    if t == "strs": return {"t":t,"v":[random.choice(strs) for _ in range(random.randint(0,3))]}
    if t == "map": return {"t":t,"v":{random.choice(["a","b","c","z","A","_"]): val(depth+1) for _ in range(random.randint(0,3))}}
def spec():
    s = "%"
    for f in "+-# 0":
        if random.random() < 0.15: s += f
    r = random.random()
    if r < 0.1: s += "*"
    elif r < 0.4: s += str(random.randint(0, 12))
    r = random.random()
    if r < 0.05: s += ".*"
    elif r < 0.1: s += "."
    elif r < 0.35: s += "." + str(random.randint(0, 10))
    if random.random() < 0.03: s += "[%d]" % random.randint(0, 3)
    s += random.choice(list("vvvvdsssqxXoObcUeEfFgGtT%") + ["!", "z", ""])
    return s
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3000):
    r = random.random()
    args = [val() for _ in range(random.randint(0, 3))]
    if r < 0.05:
        f = "\x00sprint"
    elif r < 0.08:
        f = "\x00sprintln"
    else:
        f = "".join(random.choice([spec(), spec(), "x", " ", "-"]) for _ in range(random.randint(1, 3)))
        # the number of '*' consumes args too; keep as is
        n = f.count("%")
        if random.random() < 0.8:
            args = [val() for _ in range(n)]
    print(json.dumps({"f": f, "a": args}))
