//! End-to-end checks of the template engine against Go's text/template as Helm runs it.
//!
//! Every expectation below was produced by the real helm 4.1.4 (Go 1.25): each template was placed
//! in `{{- define "x" }}TEMPLATE{{ end }}DEFINES` on line 1 of `c/templates/t.yaml`, rendered with
//! `helm template` and the values of [`VALUES`] passed with `--set-json`, and the output of
//! `include "x" .` (or the error text after `error calling include: `) recorded. Error positions
//! therefore refer to that file layout, which the test rebuilds exactly.

use chartup::template::exec::Templates;
use chartup::template::{Func, FuncMap, List, Map, Param, Sig, Value};

const VALUES: &str = r#"{"s":"str","n":8080,"big":1000000,"f":1.5,"neg":-2,"t":true,"nul":null,"l":[1,"a",null,true],"m":{"b":"B","a":1.5,"z":{"y":"Y"}},"e":"","el":[],"em":{},"words":["x","y","z"]}"#;

/// JSON as Helm's `--set-json` reads it: numbers are float64, maps `map[string]interface {}`.
fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::List(List::new(a.iter().map(from_json).collect())),
        serde_json::Value::Object(o) => {
            let m = Map::new();
            for (k, v) in o {
                m.insert(k.clone(), from_json(v));
            }
            Value::Map(m)
        }
    }
}

fn render(case: &str) -> Result<String, String> {
    let mut funcs = FuncMap::new();
    funcs.insert(
        "include".into(),
        Func::with_host(Sig::fixed(&[Param::String, Param::Any]), |h, a| {
            h.exec_named(a[0].as_str().unwrap_or(""), a[1].clone()).map(Value::from)
        }),
    );
    let mut t = Templates::new(funcs);
    let (defs, main) = match case.split_once('§') {
        Some((d, m)) => (d, m),
        None => ("", case),
    };
    let file = format!("{{{{- define \"x\" }}}}{main}{{{{ end }}}}{defs}\nv: {{{{ include \"x\" . }}}}\n");
    t.parse("c/templates/t.yaml", &file).map_err(|e| e.to_string())?;
    let values: serde_json::Value = serde_json::from_str(VALUES).map_err(|e| e.to_string())?;
    let top = Map::new();
    top.insert("Values", from_json(&values));
    t.execute("x", &Value::Map(top)).map_err(|e| e.to_string())
}

#[rustfmt::skip]
const CASES: &[(&str, Result<&str, &str>)] = &[
    (r#"{{ .Values.s }}|{{ .Values.n }}|{{ .Values.big }}|{{ .Values.f }}|{{ .Values.neg }}|{{ .Values.t }}"#, Ok(r#"str|8080|1e+06|1.5|-2|true"#)),
    (r#"{{ .Values.m }}|{{ .Values.l }}|{{ .Values.words }}|{{ .Values.el }}|{{ .Values.em }}|{{ .Values.e }}"#, Ok(r#"map[a:1.5 b:B z:map[y:Y]]|[1 a <nil> true]|[x y z]|[]|map[]|"#)),
    (r#"{{ .Values.m.z.y }}|{{ .Values.m.a }}|{{ index .Values.m "b" }}|{{ index .Values.m "z" "y" }}"#, Ok(r#"Y|1.5|B|Y"#)),
    (r#"{{ range .Values.words }}[{{ . }}]{{ end }}"#, Ok(r#"[x][y][z]"#)),
    (r#"{{ range $i, $w := .Values.words }}{{ $i }}:{{ $w }} {{ end }}"#, Ok(r#"0:x 1:y 2:z "#)),
    (r#"{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}"#, Ok(r#"a=1.5;b=B;z=map[y:Y];"#)),
    (r#"{{ range $v := .Values.m }}{{ $v }};{{ end }}"#, Ok(r#"1.5;B;map[y:Y];"#)),
    (r#"{{ range .Values.el }}x{{ else }}empty{{ end }}|{{ range .Values.em }}x{{ else }}empty{{ end }}"#, Ok(r#"empty|empty"#)),
    (r#"{{ range 3 }}{{ . }}{{ end }}|{{ range $x := 4 }}{{ $x }}{{ end }}|{{ range 0 }}x{{ else }}zero{{ end }}"#, Ok(r#"012|0123|zero"#)),
    (r#"{{ range .Values.words }}{{ if eq . "y" }}{{ break }}{{ end }}{{ . }}{{ end }}"#, Ok(r#"x"#)),
    (r#"{{ range .Values.words }}{{ if eq . "y" }}{{ continue }}{{ end }}{{ . }}{{ end }}"#, Ok(r#"xz"#)),
    (r#"{{ range $i, $w := .Values.words }}{{ range $.Values.words }}{{ if eq . $w }}{{ break }}{{ end }}{{ $i }}{{ end }};{{ end }}"#, Ok(r#";1;22;"#)),
    (r#"{{ if .Values.t }}yes{{ end }}|{{ if .Values.e }}yes{{ else }}no{{ end }}|{{ if .Values.el }}y{{ else if .Values.em }}y2{{ else if .Values.n }}n{{ end }}"#, Ok(r#"yes|no|n"#)),
    (r#"{{ with .Values.m }}{{ .b }}{{ end }}|{{ with .Values.e }}x{{ else }}none{{ end }}|{{ with .Values.e }}x{{ else with .Values.s }}{{ . }}{{ end }}"#, Ok(r#"B|none|str"#)),
    (r#"{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}"#, Ok(r#"2"#)),
    (r#"{{ $x := .Values.s }}{{ with .Values.m }}{{ $x }}-{{ .b }}-{{ $.Values.s }}{{ end }}"#, Ok(r#"str-B-str"#)),
    (r#"{{ and 1 0 2 }}|{{ and 1 2 }}|{{ or 0 "" }}|{{ or 0 3 }}|{{ not 0 }}|{{ not .Values.s }}|{{ "x" | and 1 }}|{{ "" | or 0 }}"#, Ok(r#"0|2||3|true|false|x|"#)),
    (r#"{{ and .Values.e .Values.nope.x }}|{{ or .Values.s .Values.nope.x }}"#, Ok(r#"|str"#)),
    (r#"{{ print 1 2 "a" "b" 3 }}|{{ print .Values.n .Values.s .Values.t }}|{{ println 1 "a" }}|{{ print }}"#, Ok(r#"1 2ab3|8080strtrue|1 a
|"#)),
    (r#"{{ printf "%d %s %v %q" 1 "a" .Values.l "q" }}|{{ printf "%d" .Values.n }}|{{ printf "%v %v" 1 }}|{{ printf "%v" 1 2 }}"#, Ok(r#"1 a [1 a <nil> true] "q"|%!d(float64=8080)|1 %!v(MISSING)|1%!(EXTRA int=2)"#)),
    (r#"{{ printf "%T %T %T %T %T %T %T" .Values.n 1 "s" .Values.l .Values.m .Values.t nil }}"#, Ok(r#"float64 int string []interface {} map[string]interface {} bool <nil>"#)),
    (r#"{{ printf "%5.2f|%-6s|%06d|%x|%X|%o|%b|%e|%g|%G" 3.14159 "ab" 42 255 "hi" 8 5 1234.5678 0.00001 1e21 }}"#, Ok(r#" 3.14|ab    |000042|ff|6869|10|101|1.234568e+03|1e-05|1E+21"#)),
    (r#"{{ printf "%.0f %.1f %.2f %.3g %.10g" 2.5 0.05 1.005 123456.0 0.1 }}"#, Ok(r#"2 0.1 1.00 1.23e+05 0.1"#)),
    (r#"{{ printf "%s" .Values.l }}|{{ printf "%d" .Values.l }}|{{ printf "%q" .Values.words }}|{{ printf "%v" .Values.m }}|{{ printf "%#v" .Values.words }}"#, Ok(r#"[%!s(float64=1) a <nil> %!s(bool=true)]|[%!d(float64=1) %!d(string=a) <nil> %!d(bool=true)]|["x" "y" "z"]|map[a:1.5 b:B z:map[y:Y]]|[]interface {}{"x", "y", "z"}"#)),
    (r#"{{ printf "%v|%v|%v|%v|%v" 100000.0 1000000.0 1e-4 1e-5 123456789.0 }}"#, Ok(r#"100000|1e+06|0.0001|1e-05|1.23456789e+08"#)),
    (r#"{{ printf "%c%c|%U|%#U|%q" 72 105 0x1F600 65 65 }}"#, Ok(r#"Hi|U+1F600|U+0041 'A'|'A'"#)),
    (r#"{{ printf "%*d|%-*d|%.*f" 5 1 5 2 2 3.14159 }}"#, Ok(r#"    1|2    |3.14"#)),
    (r#"{{ printf "%[2]d %[1]d|%[3]d" 1 2 }}"#, Ok(r#"2 1|%!d(BADINDEX)"#)),
    (r#"{{ printf "%!|%z|%" 1 }}"#, Ok(r#"%!!(int=1)|%!z(MISSING)|%!(NOVERB)"#)),
    (r#"{{ len .Values.s }}|{{ len .Values.l }}|{{ len .Values.m }}|{{ len "héllo" }}|{{ len .Values.el }}"#, Ok(r#"3|4|3|6|0"#)),
    (r#"{{ index .Values.l 1 }}|{{ index .Values.words 2 }}|{{ index "abc" 1 }}|{{ index .Values.m "nope" }}x"#, Ok(r#"a|z|98|<no value>x"#)),
    (r#"{{ eq 1 1 }}{{ eq 1 2 }}{{ eq "a" "a" }}{{ eq .Values.s "str" }}{{ eq .Values.n 8080.0 }}{{ eq 1 2 3 1 }}{{ eq .Values.nope nil }}{{ eq .Values.t true }}"#, Ok(r#"truefalsetruetruetruetruetruetrue"#)),
    (r#"{{ ne 1 2 }}{{ lt 1 2 }}{{ le 2 2 }}{{ gt 3 2 }}{{ ge 1 2 }}{{ lt "a" "b" }}{{ lt 1.5 2.5 }}{{ gt .Values.n 80.0 }}"#, Ok(r#"truetruetruetruefalsetruetruetrue"#)),
    (r#"{{ eq .Values.nope 1 }}|{{ eq .Values.nul "x" }}|{{ ne .Values.nope "" }}"#, Ok(r#"false|false|true"#)),
    (r#"{{ html "<a href='x'>&\"</a>" }}|{{ js "it's \"q\" <b> & = \\ é" }}|{{ urlquery "a b&c=d/é?" }}"#, Ok(r#"&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;|it\'s \"q\" \u003Cb\u003E \u0026 \u003D \\ é|a+b%26c%3Dd%2F%C3%A9%3F"#)),
    (r#"{{ html .Values.n .Values.s }}|{{ urlquery .Values.nope }}"#, Ok(r#"8080str|%3Cno+value%3E"#)),
    (r#"{{ define "sub" }}[{{ . }}]{{ end }}§{{ template "sub" .Values.s }}{{ template "sub" .Values.l }}{{ include "sub" .Values.n }}"#, Ok(r#"[str][[1 a <nil> true]][8080]"#)),
    (r#"{{ define "rec" }}{{ if . }}({{ index . 0 }}){{ template "rec" .Values.el }}{{ end }}{{ end }}§{{ template "rec" .Values.words }}"#, Err(r#"template: c/templates/t.yaml:1:130: executing "rec" at <.Values.el>: can't evaluate field Values in type []interface {}"#)),
    (r#"{{ block "blk" .Values.m }}<{{ .b }}>{{ end }}"#, Ok(r#"<B>"#)),
    (r#"{{ 0x1p4 }} {{ 1_000 }} {{ 0o17 }} {{ 0b101 }} {{ 'a' }} {{ 1e3 }} {{ -0x10 }} {{ 1.0 }} {{ 017 }} {{ .5 }} {{ 0x1.8p1 }} {{ '\n' }}"#, Ok(r#"16 1000 15 5 97 1000 -16 1 15 0.5 3 10"#)),
    (r#"{{ "a\tb" }}|{{ `raw\n` }}|{{ "\u00e9\x41\101" }}"#, Ok(r#"a	b|raw\n|éAA"#)),
    (r#"a {{- " b " -}} c {{- /* comment */ -}} d"#, Ok(r#"a b cd"#)),
    (r#"{{ .Values.s -}}
   {{- .Values.n }}
x"#, Ok(r#"str8080
x"#)),
    (r#"{{ (.Values.m).b }}|{{ $m := .Values.m }}{{ $m.z.y }}|{{ ($m.z).y }}"#, Ok(r#"B|Y|Y"#)),
    (r#"{{ .Values.nope }}x{{ .Values.nul }}y{{ $x := .Values.nope }}{{ $x.b }}z{{ (.Values.nope).b }}"#, Ok(r#"<no value>x<no value>y<no value>z<no value>"#)),
    (r#"{{ range $i, $e := .Values.l }}{{ $i }}{{ printf "%T" $e }},{{ end }}"#, Ok(r#"0float64,1string,2<nil>,3bool,"#)),
    (r#"{{ with $x := .Values.s }}{{ $x }}{{ . }}{{ end }}"#, Ok(r#"strstr"#)),
    (r#"{{ if and .Values.s (eq .Values.n 8080.0) (not .Values.e) }}all{{ end }}"#, Ok(r#"all"#)),
    (r#"{{ .Values.s | printf "%s-%s" "a" }}|{{ .Values.n | printf "%v" | printf "%q" }}"#, Ok(r#"a-str|"8080""#)),
    (r#"{{ .Values.nope.b }}"#, Err(r#"template: c/templates/t.yaml:1:27: executing "x" at <.Values.nope.b>: nil pointer evaluating interface {}.b"#)),
    (r#"{{ .Values.s.b }}"#, Err(r#"template: c/templates/t.yaml:1:27: executing "x" at <.Values.s.b>: can't evaluate field b in type interface {}"#)),
    (r#"{{ range .Values.l }}{{ .x }}{{ end }}"#, Err(r#"template: c/templates/t.yaml:1:41: executing "x" at <.x>: can't evaluate field x in type interface {}"#)),
    (r#"{{ index .Values.l 9 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.l 9>: error calling index: index out of range: 9"#)),
    (r#"{{ index .Values.l 4 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.l 4>: error calling index: reflect: slice index out of range"#)),
    (r#"{{ index .Values.m 1 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.m 1>: error calling index: value has type int; should be string"#)),
    (r#"{{ len 3 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <len 3>: error calling len: len of type int"#)),
    (r#"{{ len .Values.nope }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <len .Values.nope>: error calling len: len of nil pointer"#)),
    (r#"{{ eq 1 1.0 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <eq 1 1.0>: error calling eq: incompatible types for comparison: int and float64"#)),
    (r#"{{ eq .Values.l .Values.l }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <eq .Values.l .Values.l>: error calling eq: non-comparable type [%!s(float64=1) a <nil> %!s(bool=true)]: []interface {}"#)),
    (r#"{{ lt .Values.s 1 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <lt .Values.s 1>: error calling lt: incompatible types for comparison: string and int"#)),
    (r#"{{ lt .Values.nope 1 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <lt .Values.nope 1>: error calling lt: invalid type for comparison"#)),
    (r#"{{ eq }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <eq>: wrong number of args for eq: want at least 1 got 0"#)),
    (r#"{{ ne 1 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <ne>: wrong number of args for ne: want 2 got 1"#)),
    (r#"{{ not }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <not>: wrong number of args for not: want 1 got 0"#)),
    (r#"{{ not 1 2 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <not>: wrong number of args for not: want 1 got 2"#)),
    (r#"{{ index }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index>: wrong number of args for index: want at least 1 got 0"#)),
    (r#"{{ printf }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <printf>: wrong number of args for printf: want at least 1 got 0"#)),
    (r#"{{ printf 1 }}"#, Err(r#"template: c/templates/t.yaml:1:27: executing "x" at <1>: expected string; found 1"#)),
    (r#"{{ printf .Values.n }}"#, Err(r#"template: c/templates/t.yaml:1:34: executing "x" at <.Values.n>: wrong type for value; expected string; got float64"#)),
    (r#"{{ .Values.nope | printf }}"#, Err(r#"template: c/templates/t.yaml:1:35: executing "x" at <printf>: invalid value; expected string"#)),
    (r#"{{ 1 2 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <1>: can't give argument to non-function 1"#)),
    (r#"{{ . 1 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <.>: can't give argument to non-function ."#)),
    (r#"{{ .Values.s 1 }}"#, Err(r#"template: c/templates/t.yaml:1:27: executing "x" at <.Values.s>: s is not a method but has arguments"#)),
    (r#"{{ nil }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <nil>: nil is not a command"#)),
    (r#"{{ ("a").b }}"#, Err(r#"template: c/templates/t.yaml:1:21: executing "x" at <"a">: can't evaluate field b in type string"#)),
    (r#"{{ template "nope" }}"#, Err(r#"template: c/templates/t.yaml:1:29: executing "x" at <{{template "nope"}}>: template "nope" not defined"#)),
    (r#"{{ include "nope" . }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <include "nope" .>: error calling include: template: no template "nope" associated with template "gotpl""#)),
    (r#"{{ $x := 1 }}{{ $x.y }}"#, Err(r#"template: c/templates/t.yaml:1:35: executing "x" at <$x.y>: can't evaluate field y in type int"#)),
    (r#"{{ range .Values.s }}{{ end }}"#, Err(r#"template: c/templates/t.yaml:1:33: executing "x" at <.Values.s>: range can't iterate over str"#)),
    (r#"{{ range .Values.f }}{{ end }}"#, Err(r#"template: c/templates/t.yaml:1:33: executing "x" at <.Values.f>: range can't iterate over 1.5"#)),
    (r#"{{ range .Values.t }}{{ end }}"#, Err(r#"template: c/templates/t.yaml:1:33: executing "x" at <.Values.t>: range can't iterate over true"#)),
    (r#"{{ call .Values.s }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <call .Values.s>: error calling call: non-function .Values.s of type string"#)),
    (r#"{{ call .Values.nope }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <call .Values.nope>: error calling call: call of nil"#)),
    (r#"{{ index .Values.s 10 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.s 10>: error calling index: index out of range: 10"#)),
    (r#"{{ and }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <and>: wrong number of args for and: want at least 1 got 0"#)),
    (r#"{{ with .Values.m }}{{ .b.c }}{{ end }}"#, Err(r#"template: c/templates/t.yaml:1:42: executing "x" at <.b.c>: can't evaluate field c in type interface {}"#)),
    (r#"{{ range $k, $v := .Values.m }}{{ $v.q }}{{ end }}"#, Err(r#"template: c/templates/t.yaml:1:53: executing "x" at <$v.q>: can't evaluate field q in type interface {}"#)),
    (r#"{{ html }}x"#, Ok(r#"x"#)),
    (r#"{{ define "e" }}{{ .Values.nope.x }}{{ end }}§{{ template "e" . }}"#, Err(r#"template: c/templates/t.yaml:1:72: executing "e" at <.Values.nope.x>: nil pointer evaluating interface {}.x"#)),
    (r#"{{ define "e2" }}{{ index . 5 }}{{ end }}§{{ include "e2" .Values.words }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <include "e2" .Values.words>: error calling include: template: c/templates/t.yaml:1:78: executing "e2" at <index . 5>: error calling index: index out of range: 5"#)),
    (r#"{{ define "d" }}{{ .b }}{{ end }}§{{ include "d" .Values.m }}{{ template "d" .Values.m }}"#, Ok(r#"BB"#)),
    (r#"{{ define "big" }}{{ range . }}{{ . }},{{ end }}{{ end }}§{{ include "big" .Values.l | len }}"#, Ok(r#"20"#)),
    // Second batch: fmt corner cases, scoping, more errors.
    (r#"{{ 1 | printf "%v" 2 }}|{{ $x := 1 }}{{ $x := 2 }}{{ $x }}|{{ (1) }}|{{ ((1)) }}|{{ true | not }}"#, Ok(r#"2%!(EXTRA int=1)|2|1|1|false"#)),
    (r#"{{ index .Values.m "z" "y" "q" }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.m "z" "y" "q">: error calling index: cannot index slice/array with type string"#)),
    (r#"{{ index .Values.m "nope" "x" }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.m "nope" "x">: error calling index: index of nil pointer"#)),
    (r#"{{ printf "%v" .Values }}|{{ .Values.l | len }}|{{ $x := .Values.words }}{{ range $x }}{{ . }}{{ end }}"#, Ok(r#"map[big:1e+06 e: el:[] em:map[] f:1.5 l:[1 a <nil> true] m:map[a:1.5 b:B z:map[y:Y]] n:8080 neg:-2 nul:<nil> s:str t:true words:[x y z]]|4|xyz"#)),
    (r#"{{ define "t2" }}{{ $ }}{{ end }}§{{ template "t2" 5 }}|{{ template "t2" }}"#, Ok(r#"5|<no value>"#)),
    (r#"{{ with .Values.nope }}x{{ else }}{{ .Values.s }}{{ end }}"#, Ok(r#"str"#)),
    (r#"{{ printf "%s" nil }}|{{ print nil 1 }}|{{ print "a" nil }}|{{ println }}|{{ print 1.5 2 "x" }}"#, Ok(r#"%!s(<nil>)|<nil> 1|a<nil>|
|1.5 2x"#)),
    (r#"{{ 1e6 }} {{ 100000000.0 }} {{ -1.5e-7 }} {{ 0.000001 }} {{ 123456.7 }} {{ 1e21 }} {{ 1e20 }} {{ 0.1 }} {{ 1.25 }} {{ 3.0e0 }}"#, Ok(r#"1e+06 1e+08 -1.5e-07 1e-06 123456.7 1e+21 1e+20 0.1 1.25 3"#)),
    (r#"{{ 'x' | printf "%c" }}|{{ "\u263a" }}|{{ printf "%q" "\u263a\x00\t" }}|{{ printf "%+q" "\u263a" }}"#, Ok(r#"x|☺|"☺\x00\t"|"\u263a""#)),
    (r#"{{ printf "%x" -1 }}|{{ printf "%08.3f" -3.14159 }}|{{ printf "%+d %+d" 5 -5 }}|{{ printf "% x" "abc" }}|{{ printf "%#v" .Values.m }}"#, Ok(r#"-1|-003.142|+5 -5|61 62 63|map[string]interface {}{"a":1.5, "b":"B", "z":map[string]interface {}{"y":"Y"}}"#)),
    (r#"{{ printf "%v" .Values.f | len }}|{{ len (index .Values.l 1) }}|{{ .Values.m.z }}|{{ len .Values.m.z }}"#, Ok(r#"3|1|map[y:Y]|1"#)),
    (r#"{{- /* x */}}a"#, Ok(r#"a"#)),
    (r#"a 	{{- 1 }}"#, Ok(r#"a1"#)),
    (r#"{{ printf "%d" (index .Values.words 0) }}"#, Ok(r#"%!d(string=x)"#)),
    (r#"{{ if and (eq 1 1) (ne 2 3) }}ok{{ end }}|{{ not .Values.nope }}|{{ or .Values.nope }}|{{ $x := "a" }}{{ $x = "b" }}{{ $x }}"#, Ok(r#"ok|true|<no value>|b"#)),
    (r#"{{ .Values.s | printf "%s %s" .Values.n }}"#, Ok(r#"%!s(float64=8080) str"#)),
    (r#"{{ eq .Values.words .Values.words }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <eq .Values.words .Values.words>: error calling eq: non-comparable type [x y z]: []interface {}"#)),
    (r#"{{ eq .Values.m .Values.m }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <eq .Values.m .Values.m>: error calling eq: non-comparable type map[a:%!s(float64=1.5) b:B z:map[y:Y]]: map[string]interface {}"#)),
    (r#"{{ lt .Values.n .Values.f }}|{{ gt .Values.n .Values.f }}|{{ ge .Values.f 1.5 }}|{{ le "b" "a" }}"#, Ok(r#"false|true|true|false"#)),
    (r#"{{ html "" }}|{{ js "" }}|{{ urlquery "a" "b" }}|{{ print (index .Values.l 2) }}|{{ index .Values.l 2 }}|{{ printf "%v" (index .Values.l 2) }}"#, Ok(r#"||ab|<nil>|<no value>|<nil>"#)),
    (r#"{{ printf "%T %T" (index .Values.l 2) (index .Values.m "nope") }}"#, Ok(r#"<nil> <nil>"#)),
    (r#"{{ printf "%5t|%-7v|%07.2f|%+.3e|%X" true "ab" 3.14159 12345.678 255 }}"#, Ok(r#" true|ab     |0003.14|+1.235e+04|FF"#)),
    (r#"{{ printf "%s|%v|%d" .Values.t .Values.t .Values.t }}"#, Ok(r#"%!s(bool=true)|true|%!d(bool=true)"#)),
    (r#"{{ printf "%.2s|%.5d|%5.1s|%-5.1s|" "hello" 42 "xyz" "xyz" }}"#, Ok(r#"he|00042|    x|x    |"#)),
    (r#"{{ printf "%o %O %#o %#x %#X %x" 8 8 8 255 255 "hello" }}"#, Ok(r#"10 0o10 010 0xff 0XFF 68656c6c6f"#)),
    (r#"{{ printf "%e %E %.0e %f %.0f %g %G" 0.0 100.0 5.5 1e-7 0.5 1e100 1e-100 }}"#, Ok(r#"0.000000e+00 1.000000E+02 6e+00 0.000000 0 1e+100 1E-100"#)),
    (r#"{{ printf "%g %g %g %g %g" 1e5 1e6 1e-4 1e-5 123456789.0 }}"#, Ok(r#"100000 1e+06 0.0001 1e-05 1.23456789e+08"#)),
    (r#"{{ printf "%6.2v|%.3v|%10.4g" 3.14159 3.14159 3.14159 }}"#, Ok(r#"   3.1|3.14|     3.142"#)),
    (r#"{{ printf "%v %v" .Values.el .Values.em }}|{{ printf "%q" .Values.l }}|{{ printf "%x" .Values.words }}"#, Ok(r#"[] map[]|[%!q(float64=1) "a" <nil> %!q(bool=true)]|[78 79 7a]"#)),
    (r#"{{ printf "%t" .Values.s }}|{{ printf "%c" .Values.s }}|{{ printf "%p" 1 }}"#, Ok(r#"%!t(string=str)|%!c(string=str)|%!p(int=1)"#)),
    (r#"{{ printf "%-8q|%8q" "a" "b" }}|{{ printf "%U" -1 }}|{{ printf "%c" -1 }}"#, Ok(r#""a"     |     "b"|U+FFFFFFFFFFFFFFFF|�"#)),
    (r#"{{ range $i, $e := .Values.m }}{{ $i }}{{ end }}|{{ range .Values.m.z }}{{ . }}{{ end }}"#, Ok(r#"abz|Y"#)),
    (r#"{{ $y := 0 }}{{ range $i, $e := .Values.words }}{{ $y = $i }}{{ end }}{{ $y }}"#, Ok(r#"2"#)),
    (r#"{{ range .Values.words }}{{ $w := . }}{{ range $.Values.words }}{{ if eq . $w }}{{ continue }}{{ end }}{{ . }}{{ end }};{{ end }}"#, Ok(r#"yz;xz;xy;"#)),
    (r#"{{ with $v := .Values.m.z }}{{ $v.y }}{{ .y }}{{ end }}"#, Ok(r#"YY"#)),
    (r#"{{ if .Values.nul }}a{{ else if .Values.l }}b{{ else }}c{{ end }}"#, Ok(r#"b"#)),
    (r#"{{ .Values.m.z.y.w }}"#, Err(r#"template: c/templates/t.yaml:1:27: executing "x" at <.Values.m.z.y.w>: can't evaluate field w in type interface {}"#)),
    (r#"{{ .Values.words.x }}"#, Err(r#"template: c/templates/t.yaml:1:27: executing "x" at <.Values.words.x>: can't evaluate field x in type interface {}"#)),
    (r#"{{ .Values.l.x }}"#, Err(r#"template: c/templates/t.yaml:1:27: executing "x" at <.Values.l.x>: can't evaluate field x in type interface {}"#)),
    (r#"{{ $.Values.nope.x }}"#, Err(r#"template: c/templates/t.yaml:1:21: executing "x" at <$.Values.nope.x>: nil pointer evaluating interface {}.x"#)),
    (r#"{{ index .Values.words "a" }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.words "a">: error calling index: cannot index slice/array with type string"#)),
    (r#"{{ index .Values.words 1.0 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.words 1.0>: error calling index: cannot index slice/array with type float64"#)),
    (r#"{{ index .Values.words nil }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <index .Values.words nil>: error calling index: cannot index slice/array with nil"#)),
    (r#"{{ printf "%d %d" 1 }}|{{ printf "%!v" }}"#, Ok(r#"1 %!d(MISSING)|%!!(MISSING)v"#)),
    (r#"{{ eq "a" 1 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <eq "a" 1>: error calling eq: incompatible types for comparison: string and int"#)),
    (r#"{{ eq 1 "a" }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <eq 1 "a">: error calling eq: incompatible types for comparison: int and string"#)),
    (r#"{{ ne .Values.s 1 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <ne .Values.s 1>: error calling ne: incompatible types for comparison: string and int"#)),
    (r#"{{ eq .Values.t 1 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <eq .Values.t 1>: error calling eq: incompatible types for comparison: bool and int"#)),
    (r#"{{ lt 1 2 3 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <lt>: wrong number of args for lt: want 2 got 3"#)),
    (r#"{{ lt 1.5 2 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <lt 1.5 2>: error calling lt: incompatible types for comparison: float64 and int"#)),
    (r#"{{ not .Values.s .Values.s }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <not>: wrong number of args for not: want 1 got 2"#)),
    (r#"{{ len }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <len>: wrong number of args for len: want 1 got 0"#)),
    (r#"{{ len 1 2 }}"#, Err(r#"template: c/templates/t.yaml:1:20: executing "x" at <len>: wrong number of args for len: want 1 got 2"#)),
    (r#"{{ printf "%s" .Values.m.z.y.w }}"#, Err(r#"template: c/templates/t.yaml:1:39: executing "x" at <.Values.m.z.y.w>: can't evaluate field w in type interface {}"#)),
    (r#"{{ range $i, $e := .Values.words }}{{ $e.x }}{{ end }}"#, Err(r#"template: c/templates/t.yaml:1:57: executing "x" at <$e.x>: can't evaluate field x in type interface {}"#)),
    (r#"{{ urlquery .Values.l }}|{{ html .Values.m }}|{{ js .Values.t }}"#, Ok(r#"%5B1+a+%3Cnil%3E+true%5D|map[a:1.5 b:B z:map[y:Y]]|true"#)),
    (r#"{{ define "t3" }}{{ .b }}{{ .z.y }}{{ end }}§{{ template "t3" .Values.m }}"#, Ok(r#"BY"#)),
    (r#"{{ .Values.nope | len }}"#, Err(r#"template: c/templates/t.yaml:1:35: executing "x" at <len>: error calling len: reflect: call of reflect.Value.Type on zero Value"#)),
];

#[test]
fn engine_matches_helm() {
    let mut failures = Vec::new();
    for (case, want) in CASES {
        let got = render(case);
        let ok = match (&got, want) {
            (Ok(g), Ok(w)) => g == w,
            (Err(g), Err(w)) => g == w,
            _ => false,
        };
        if !ok {
            failures.push(format!("case {case:?}\n   got: {got:?}\n  want: {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
