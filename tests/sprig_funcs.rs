//! Sprig functions checked against the real Helm 4.1.4.
//!
//! Each case line is `name ~ arg ~ arg… => result`, where the result is what `helm template`
//! printed for `{{ name args… | toJson }}` (or `ERR <text after "error calling name: ">`). The
//! cases were recorded by rendering a throwaway chart with `/work/main/.tools/bin/helm`; nothing in
//! them was produced by chartup. Arguments: `i:` Go int constant, `I:` int64, `f:` float64,
//! `b:` bool, `s:` string (`\n` is a newline), `nil`, `L:a,b` a `list`, `SL:a,b` a `splitList`
//! result (`[]string`), `J:{…}` a `fromJson` result.
//!
//! Left out on purpose (known, documented differences): Go's random `keys`/`values` order, and
//! functions returning a *nil* slice (`rest (list)`, `regexFindAll` without matches), which
//! `toJson` prints as `null` while chartup's value model has only empty slices.

use chartup::template::funcs::sprig;
use chartup::template::{Host, Value};
use chartup::yaml::{from_json, to_json, JsonOpts};

struct NoHost;

impl Host for NoHost {
    fn exec_named(&mut self, _: &str, _: Value) -> Result<String, String> {
        Err("no engine in this test".into())
    }
    fn exec_text(&mut self, _: &str, _: Value) -> Result<String, String> {
        Err("no engine in this test".into())
    }
}

fn arg(a: &str) -> Value {
    if a == "nil" {
        return Value::Nil;
    }
    if let Some(r) = a.strip_prefix("J:") {
        return from_json(r).expect("case JSON");
    }
    if let Some(r) = a.strip_prefix("i:") {
        return Value::Int(r.parse().expect("int"));
    }
    if let Some(r) = a.strip_prefix("I:") {
        return Value::Int64(r.parse().expect("int64"));
    }
    if let Some(r) = a.strip_prefix("f:") {
        return Value::Float(r.parse().expect("float"));
    }
    if let Some(r) = a.strip_prefix("b:") {
        return Value::Bool(r == "true");
    }
    if let Some(r) = a.strip_prefix("L:") {
        return Value::list(r.split(',').filter(|x| !x.is_empty()).map(arg).collect());
    }
    if let Some(r) = a.strip_prefix("SL:") {
        return Value::str_list(r.split(','));
    }
    Value::str(a.strip_prefix("s:").unwrap_or(a).replace("\\n", "\n"))
}

const CASES: &str = r##"
swapcase ~ s:Hello wORLD 1a => "hELLO World 1A"
title ~ s:hello-world élan o'neil => "Hello-World Élan O'Neil"
untitle ~ s:Hello World ÉLAN => "hello world éLAN"
camelcase ~ s:_complex__case_ => "_Complex_Case_"
camelcase ~ s:- => "--"
camelcase ~ s:GOLANG_IS_GREAT => "GolangIsGreat"
snakecase ~ s:HTTP20xOK => "http_20x_ok"
snakecase ~ s:Duration2m3s => "duration_2m3s"
snakecase ~ s:a.b-c d__e => "a.b_c_d__e"
kebabcase ~ s:FirstName LastName!x => "first-name-last-name!x"
snakecase ~ s:ÀbcDéf => "àbc_déf"
initials ~ s:  hello  World x => "hWx"
wrap ~ i:3 ~ s:a verylongword b => "a\nverylongword\nb"
wrapWith ~ i:4 ~ s:<br> ~ s:abcdefghij kl => "abcd\u003cbr\u003eefgh\u003cbr\u003eij\u003cbr\u003ekl"
abbrevboth ~ i:0 ~ i:4 ~ s:abcdefg => "a..."
abbrevboth ~ i:10 ~ i:7 ~ s:abcdefghijklmnopq => "...k..."
abbrev ~ i:3 ~ s:abcdef => "abcdef"
trimAll ~ s:$- ~ s:-$x$- => "x"
trim ~ s:\n x \n => "x"
nospace ~ s:a b\nc => "abc"
quote ~ s:a"b ~ nil ~ i:3 ~ f:1e+06 ~ L:i:1,s:x => "\"a\\\"b\" \"3\" \"1e+06\" \"[1 x]\""
squote ~ s:a'b ~ nil ~ f:1.5 => "'a'b' '1.5'"
cat ~ s:a ~ nil ~ i:1 ~ L: => "a 1 []"
toString ~ f:1000000 => "1e+06"
toString ~ nil => "\u003cnil\u003e"
toStrings ~ L:i:1,nil,s:a => ["1","a"]
join ~ s:- ~ L:i:1,nil,s:a => "1-a"
join ~ s:- ~ s:abc => "abc"
join ~ s:- ~ nil => ""
sortAlpha ~ L:s:b,i:10,s:a => ["10","a","b"]
sortAlpha ~ i:5 => ["5"]
split ~ s:, ~ s:a,b,,c => {"_0":"a","_1":"b","_2":"","_3":"c"}
splitn ~ s:, ~ i:2 ~ s:a,b,c => {"_0":"a","_1":"b,c"}
splitList ~ s: ~ s:héy => ["h","é","y"]
splitn ~ s: ~ i:2 ~ s:héy => {"_0":"h","_1":"éy"}
seq ~ i:3 => "1 2 3"
seq ~ i:-2 => "1 0 -1 -2"
seq ~ i:2 ~ i:5 => "2 3 4 5"
seq ~ i:5 ~ i:-2 ~ i:0 => "5 3 1"
seq ~ i:0 ~ i:2 ~ i:5 => "0 2 4"
seq => ""
repeat ~ i:-1 ~ s:x => ERR strings: negative Repeat count
indent ~ i:-1 ~ s:x => ERR strings: negative Repeat count
plural ~ s:one ~ s:many ~ i:1 => "one"
substr ~ i:2 ~ i:1 ~ s:abc => ERR runtime error: slice bounds out of range [2:1]
substr ~ i:5 ~ i:-1 ~ s:abc => ERR runtime error: slice bounds out of range [5:3]
substr ~ i:1 ~ i:-1 ~ s:abc => "bc"
trunc ~ i:-3 ~ s:abc => "abc"
replace ~ s: ~ s:- ~ s:ab => "-a-b-"
list ~ i:1 ~ s:a ~ nil => [1,"a",null]
tuple => []
append ~ L:i:1 ~ i:2 => [1,2]
push ~ SL:a,b ~ i:2 => ["a","b",2]
prepend ~ L:i:1 ~ s:x => ["x",1]
first ~ SL:a,b => "a"
last ~ L:i:1,i:2 => 2
last ~ L: => null
rest ~ L:i:1,i:2,i:3 => [2,3]
initial ~ L:i:1,i:2,i:3 => [1,2]
reverse ~ L:i:1,i:2,i:3 => [3,2,1]
uniq ~ L:i:1,f:1.0,i:1,s:1 => [1,1,"1"]
compact ~ L:i:0,s:,nil,b:false,s:x,i:1 => ["x",1]
without ~ L:i:1,i:2,i:3 ~ i:2 ~ i:3 => [1]
has ~ i:2 ~ L:i:1,i:2 => true
has ~ s:a ~ SL:a,b => true
has ~ i:2 ~ nil => false
has ~ i:2 ~ s:abc => ERR Cannot find has on type string
slice ~ L:i:1,i:2,i:3 ~ i:1 => [2,3]
slice ~ L:i:1,i:2,i:3 ~ i:1 ~ i:2 => [2]
slice ~ L:i:1,i:2,i:3 ~ s:1 ~ f:2.9 => [2]
slice ~ L:i:1,i:2,i:3 ~ i:2 ~ i:1 => ERR reflect.Value.Slice: slice index out of bounds
slice ~ L:i:1,i:2,i:3 ~ i:0 ~ i:5 => ERR reflect.Value.Slice: slice index out of bounds
slice ~ s:abc => ERR list should be type of slice or array but string
mustSlice ~ L: ~ i:1 => null
concat ~ L:i:1 ~ SL:a => [1,"a"]
concat ~ L:i:1 ~ i:2 => ERR Cannot concat type int as list
concat ~ L:i:1 ~ nil => ERR runtime error: invalid memory address or nil pointer dereference
chunk ~ i:2 ~ L:i:1,i:2,i:3,i:4,i:5 => [[1,2],[3,4],[5]]
chunk ~ i:2 ~ L: => []
chunk ~ i:0 ~ L:i:1 => ERR runtime error: makeslice: len out of range
mustChunk ~ i:2 ~ s:x => ERR Cannot chunk type string
mustLast ~ i:4 => ERR Cannot find last on type int
mustRest ~ nil => ERR runtime error: invalid memory address or nil pointer dereference
mustUniq ~ b:true => ERR Cannot find uniq on type bool
mustWithout ~ s:x => ERR Cannot find without on type string
mustHas ~ i:1 ~ b:true => ERR Cannot find has on type bool
mustPrepend ~ nil ~ i:1 => ERR runtime error: invalid memory address or nil pointer dereference
mustInitial ~ f:1.5 => ERR Cannot find initial on type float64
mustReverse ~ s:x => ERR Cannot find reverse on type string
mustCompact ~ s:x => ERR Cannot compact on type string
add ~ i:1 ~ f:2.9 ~ s:3 ~ s:0x10 ~ b:true ~ nil => 23
add => 0
add1 ~ s:1.0 => 2
sub ~ i:5 ~ f:1.5 => 4
mul ~ i:2 ~ s:3 ~ f:2.5 => 12
mul ~ i:2 => 2
div ~ i:7 ~ i:-2 => -3
div ~ i:1 ~ i:0 => ERR runtime error: integer divide by zero
mod ~ i:-7 ~ i:3 => -1
mod ~ i:1 ~ s:0 => ERR runtime error: integer divide by zero
max ~ i:1 ~ s:9 ~ f:3.5 => 9
min ~ i:1 ~ s:-9 ~ f:3.5 => -9
biggest ~ i:1 ~ i:2 => 2
maxf ~ i:1 ~ s:9.5 ~ f:3.5 => 9.5
minf ~ i:1 ~ s:-9.5 ~ f:3.5 => -9.5
ceil ~ s:1.2 => 2
floor ~ f:-1.2 => -2
round ~ f:1.2345 ~ i:3 => 1.235
round ~ f:1.5 ~ i:0 ~ f:0.6 => 1
round ~ s:2.5 ~ i:0 => 3
addf ~ f:1.1 ~ i:2 ~ s:0.2 => 3.3
add1f ~ f:0.1 => 1.1
subf ~ f:1.1 ~ f:0.1 ~ f:0.1 => 0.9
mulf ~ f:0.1 ~ f:3 => 0.3
divf ~ i:10 ~ i:4 => 2.5
divf ~ i:1 ~ i:0 => ERR decimal division by 0
divf ~ f:1.0 ~ i:7 => 0.1428571428571429
addf ~ f:1e20 ~ f:1e-20 => 100000000000000000000
until ~ i:-3 => [0,-1,-2]
untilStep ~ i:10 ~ i:0 ~ i:-3 => [10,7,4,1]
untilStep ~ i:0 ~ i:10 ~ i:0 => []
atoi ~ s:12 => 12
atoi ~ s:x => 0
atoi ~ s: 1 => 0
int ~ s:0x1F => 31
int ~ f:-1.9 => -1
int64 ~ s:010 => 8
int64 ~ s:1e3 => 0
float64 ~ s:1e3 => 1000
float64 ~ s:x => 0
float64 ~ b:true => 1
float64 ~ s:.5 => 0.5
int ~ L: => 0
toDecimal ~ s:0755 => 493
toDecimal ~ i:755 => 493
toDecimal ~ f:755 => 493
toDecimal ~ s:9 => 0
default ~ s:d ~ nil => "d"
default ~ s:d ~ b:false => "d"
default ~ s:d ~ i:0 => "d"
default ~ s:d ~ L: => "d"
default ~ s:d ~ s:x => "x"
default ~ s:d => "d"
default ~ s:d ~ s: ~ s:x => "d"
empty ~ f:0.0 => true
empty ~ L:nil => false
coalesce ~ nil ~ s: ~ i:0 ~ s:x ~ s:y => "x"
coalesce ~ nil => null
all ~ i:1 ~ s:x => true
all ~ i:1 ~ s: => false
all => true
any ~ i:0 ~ s: => false
any ~ i:0 ~ s:x => true
any => false
ternary ~ s:a ~ s:b ~ b:true => "a"
ternary ~ s:a ~ s:b ~ b:false => "b"
fromJson ~ s:{"a":[1,2.5,"x",null,true]} => {"a":[1,2.5,"x",null,true]}
mustFromJson ~ s:{bad => ERR invalid character 'b' looking for beginning of object key string
toPrettyJson ~ L:i:1,s:<a> => "[\n  1,\n  \"\\u003ca\\u003e\"\n]"
toRawJson ~ L:i:1,s:<a> => "[1,\"\u003ca\u003e\"]"
mustToRawJson ~ s:& => "\"\u0026\""
toJson ~ s:<>& => "\"\\u003c\\u003e\\u0026\""
typeOf ~ i:1 => "int"
typeOf ~ f:1.5 => "float64"
typeOf ~ I:1 => "int64"
typeOf ~ SL:a => "[]string"
typeOf ~ L: => "[]interface {}"
typeOf ~ nil => "\u003cnil\u003e"
kindOf ~ SL:a => "slice"
kindOf ~ nil => "invalid"
kindOf ~ s:x => "string"
typeIs ~ s:string ~ s:x => true
typeIsLike ~ s:int ~ i:1 => true
kindIs ~ s:slice ~ L: => true
kindIs ~ s:invalid ~ nil => true
deepEqual ~ L:i:1 ~ L:i:1 => true
deepEqual ~ i:1 ~ f:1.0 => false
deepEqual ~ SL:a ~ L:s:a => false
deepEqual ~ nil ~ nil => true
regexMatch ~ s:^[a-z]+\d$ ~ s:abc1 => true
regexMatch ~ s:( ~ s:x => false
mustRegexMatch ~ s:( ~ s:x => ERR error parsing regexp: missing closing ): `(`
regexFindAll ~ s:[0-9]+ ~ s:a1b22c333 ~ i:2 => ["1","22"]
regexFind ~ s:b+ ~ s:abbbc => "bbb"
regexFind ~ s:z ~ s:abc => ""
regexReplaceAll ~ s:(\w+)@(\w+) ~ s:joe@example ann@test ~ s:${2}:$1 => "example:joe test:ann"
regexReplaceAll ~ s:a(x*)b ~ s:-ab-axxb- ~ s:$1W => "---"
regexReplaceAll ~ s:a(x*)b ~ s:-ab-axxb- ~ s:${1}W => "-W-xxW-"
regexReplaceAllLiteral ~ s:a(x*)b ~ s:-ab-axxb- ~ s:${1} => "-${1}-${1}-"
regexSplit ~ s:\s+ ~ s:a b  c ~ i:-1 => ["a","b","c"]
regexSplit ~ s:, ~ s: ~ i:-1 => [""]
regexSplit ~ s:x* ~ s:axbxxc ~ i:-1 => ["a","b","c"]
regexQuoteMeta ~ s:1.2.3+[x] => "1\\.2\\.3\\+\\[x\\]"
regexFind ~ s:(?i)HELLO ~ s:say hello => "hello"
regexFind ~ s:[[:upper:]]+ ~ s:abCDe => "CD"
regexFind ~ s:\pL+ ~ s:123éèx9 => "éèx"
regexFind ~ s:[^\d\s]+ ~ s:12 ab3 => "ab"
regexFind ~ s:a.c ~ s:a\nc => ""
regexFind ~ s:(?s)a.c ~ s:a\nc => "a\nc"
regexFind ~ s:^b ~ s:a\nb => ""
regexFind ~ s:(?m)^b$ ~ s:a\nb\nc => "b"
regexFindAll ~ s:\b\w ~ s:hello big world ~ i:-1 => ["h","b","w"]
regexFind ~ s:\x41\x{42} ~ s:zABz => "AB"
regexReplaceAll ~ s:(?U)a+ ~ s:aaa ~ s:x => "xxx"
regexFind ~ s:a{2,3} ~ s:aaaa => "aaa"
regexFind ~ s:[a-] ~ s:- => "-"
regexFind ~ s:[]a] ~ s:] => "]"
regexFind ~ s:[^]a] ~ s:]b => "b"
b64enc ~ s:héllo => "aMOpbGxv"
b64dec ~ s:aMOpbGxv => "héllo"
b32dec ~ s:NBSWY3DP => "hello"
base ~ s:/a/b.c => "b.c"
dir ~ s:/a/b.c => "/a"
ext ~ s:/a/b.c => ".c"
clean ~ s:a/../.. => ".."
isAbs ~ s:/x => true
osBase ~ s: => "."
osDir ~ s: => "."
osClean ~ s://a// => "/a"
osExt ~ s:.bashrc => ".bashrc"
osIsAbs ~ s:x => false
dict ~ s:a ~ i:1 ~ i:2 ~ nil ~ nil ~ s:x ~ s:odd => {"2":null,"\u003cnil\u003e":"x","a":1,"odd":""}
get ~ J:{"a":1} ~ s:a => 1
get ~ J:{"a":1} ~ s:b => ""
set ~ J:{"a":1} ~ s:b ~ L:i:1 => {"a":1,"b":[1]}
unset ~ J:{"a":1,"b":2} ~ s:a => {"b":2}
hasKey ~ J:{"a":null} ~ s:a => true
pluck ~ s:a ~ J:{"a":1} ~ J:{"b":1} ~ J:{"a":null} => [1,null]
pick ~ J:{"a":1,"b":2,"c":3} ~ s:a ~ s:c ~ s:z => {"a":1,"c":3}
omit ~ J:{"a":1,"b":2,"c":3} ~ s:a ~ s:z => {"b":2,"c":3}
merge ~ J:{"a":{"x":1,"l":[1]},"b":"","e":[]} ~ J:{"a":{"x":2,"y":2,"l":[2]},"b":"B","e":[3]} ~ J:{"c":3,"b":"C"} => {"a":{"l":[1],"x":1,"y":2},"b":"B","c":3,"e":[3]}
mergeOverwrite ~ J:{"a":{"x":1,"l":[1]},"b":"x","e":[4]} ~ J:{"a":{"x":2,"y":2,"l":[]},"b":"","e":[3]} ~ J:{"c":3} => {"a":{"l":[],"x":2,"y":2},"b":"","c":3,"e":[3]}
mergeOverwrite ~ J:{"a":{"x":1}} ~ J:{"a":"str"} => {"a":"str"}
merge ~ J:{"a":"str"} ~ J:{"a":{"x":1}} => {"a":"str"}
merge ~ J:{"a":0} ~ J:{"a":{"x":1}} => {"a":{"x":1}}
merge ~ J:{} ~ J:{"l":[1],"m":{}} => {"l":[1],"m":{}}
merge ~ J:{"z":1} ~ J:{"l":[1]} => {"l":[1],"z":1}
merge ~ J:{"z":1,"l":"s"} ~ J:{"l":[1]} => {"l":"s","z":1}
mergeOverwrite ~ J:{"z":1,"l":{"a":1}} ~ J:{"l":[1]} => {"l":[1],"z":1}
merge ~ J:{"z":1,"l":null} ~ J:{"l":[1],"n":null} => {"l":[1],"z":1}
mustMergeOverwrite ~ J:{"z":1,"l":null} ~ J:{"l":[1],"n":null} => {"l":[1],"n":null,"z":1}
deepCopy ~ J:{"a":[1,{"b":2}]} => {"a":[1,{"b":2}]}
mustDeepCopy ~ nil => ERR reflect: call of reflect.Value.Type on zero Value
dig ~ s:a ~ s:b ~ s:def ~ J:{"a":{"b":null}} => null
dig ~ s:a ~ s:c ~ s:def ~ J:{"a":{"b":1}} => "def"
dig ~ s:a ~ s:def ~ J:{"a":false} => false
dig ~ s:a ~ s:b ~ s:d ~ J:{"a":[1]} => ERR interface conversion: interface {} is []interface {}, not map[string]interface {}
dig ~ i:1 ~ s:d ~ J:{"a":[1]} => ERR interface conversion: interface {} is int, not string
dig ~ s:a ~ s:d ~ s:x => ERR interface conversion: interface {} is string, not map[string]interface {}
dig ~ s:a ~ s:d ~ nil => ERR interface conversion: interface {} is nil, not map[string]interface {}
b64dec ~ s:= => "illegal base64 data at input byte 0"
"##;

#[test]
fn sprig_functions_match_helm() {
    let funcs = sprig();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in CASES.lines().filter(|l| !l.trim().is_empty()) {
        let (call, want) = line.split_once(" => ").expect("case has =>");
        let mut parts = call.split(" ~ ");
        let name = parts.next().expect("name");
        let args: Vec<Value> = parts.map(arg).collect();
        let func = funcs.get(name).unwrap_or_else(|| panic!("{name} is not registered"));
        let got = match (func.call)(&mut NoHost, &args) {
            Ok(v) => to_json(
                &v,
                JsonOpts {
                    escape_html: true,
                    indent: false,
                },
            )
            .unwrap_or_else(|e| format!("JSON {e}")),
            Err(e) => format!("ERR {e}"),
        };
        checked += 1;
        if got != want {
            failures.push(format!("{call}\n   want {want}\n    got {got}"));
        }
    }
    assert!(checked > 200, "only {checked} cases ran");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_sprig_function_of_these_groups_is_registered() {
    let funcs = sprig();
    let names = "hello abbrev abbrevboth trunc trim upper lower title untitle substr repeat trimall trimAll \
        trimSuffix trimPrefix nospace initials swapcase snakecase camelcase kebabcase wrap wrapWith contains \
        hasPrefix hasSuffix quote squote cat indent nindent replace plural toString atoi int64 int float64 seq \
        toDecimal split splitList splitn toStrings until untilStep add1 add sub div mod mul add1f addf subf divf \
        mulf biggest max min maxf minf ceil floor round join sortAlpha default empty coalesce all any compact \
        mustCompact fromJson toJson toPrettyJson toRawJson mustFromJson mustToJson mustToPrettyJson \
        mustToRawJson ternary deepCopy mustDeepCopy typeOf typeIs typeIsLike kindOf kindIs deepEqual base dir \
        clean ext isAbs osBase osClean osDir osExt osIsAbs b64enc b64dec b32enc b32dec tuple list dict get set \
        unset hasKey pluck keys pick omit merge mergeOverwrite mustMerge mustMergeOverwrite values append push \
        mustAppend mustPush prepend mustPrepend first mustFirst rest mustRest last mustLast initial mustInitial \
        reverse mustReverse uniq mustUniq without mustWithout has mustHas slice mustSlice concat dig chunk \
        mustChunk fail regexMatch mustRegexMatch regexFindAll mustRegexFindAll regexFind mustRegexFind \
        regexReplaceAll mustRegexReplaceAll regexReplaceAllLiteral mustRegexReplaceAllLiteral regexSplit \
        mustRegexSplit regexQuoteMeta urlParse urlJoin";
    let missing: Vec<&str> = names.split_whitespace().filter(|n| !funcs.contains_key(*n)).collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
}

/// Template-level cases: each template line is followed by `=> output` as `helm template` printed
/// it (a leading `# ` removed; `\n` and `\\` escaped), or `=> ERR text`, the tail of Helm's error.
/// Data is `VALUES` as `.Values` (a `common.Values` map, as in Helm).
const TEMPLATE_CASES: &str = r##"
{{ "foo" | repeat 3 }}
=> foofoofoo
{{ indent .Values.num "x" }}
=> ERR wrong type for value; expected int; got float64
{{ .Values.num | indent 2 }}
=> ERR wrong type for value; expected string; got float64
{{ "a\nb" | indent 2 | toJson }}
=> "  a\\n  b"
{{ "a\nb" | nindent 4 | toJson }}
=> "\\n    a\\n    b"
{{ trunc -3 "abcdef" }}|{{ trunc 2 "abcdef" }}
=> def|ab
{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ toJson $d }}
=> {"a":1,"b":2}
{{ (split "/" "a/b")._1 }}
=> b
{{ list 1 2 3 | join "," }}
=> 1,2,3
{{ default "x" .Values.missing }}|{{ default "x" .Values.z }}|{{ default true .Values.t }}
=> x|x|true
[{{ quote .Values.missing }}]|{{ quote .Values.num .Values.s }}|{{ squote .Values.f }}
=> []|"3" "a1b22"|'1.5'
{{ .Values.l | first }}|{{ .Values.l | last }}|{{ .Values.l | rest }}
=> 1|2|[2]
{{ typeOf .Values.num }}|{{ typeOf (add .Values.num 1) }}|{{ add .Values.num 1 }}|{{ .Values.f | int }}|{{ mul .Values.f 2 }}
=> float64|int64|4|1|2
{{ kindIs "map" .Values.m }}|{{ kindOf .Values.l }}|{{ typeOf .Values.m }}
=> true|slice|map[string]interface {}
{{ regexReplaceAll "\\d+" .Values.s "<$0>" }}|{{ regexFindAll "[a-z]" .Values.s -1 }}
=> a<1>b<22>|[a b]
{{ tuple 1 2 | len }}|{{ until 3 | toJson }}|{{ "a,b" | splitList "," | toJson }}
=> 2|[0,1,2]|["a","b"]
{{ dig "b" "c" "none" .Values.m }}|{{ dig "b" "x" "none" .Values.m }}
=> deep|none
{{ $x := merge (dict "a" "") .Values.m }}{{ toJson $x }}|{{ toJson .Values.m }}
=> {"a":1,"b":{"c":"deep"}}|{"a":1,"b":{"c":"deep"}}
{{ .Values.m | keys | sortAlpha | join "," }}
=> a,b
{{ max .Values.num 7 "2" }}|{{ min .Values.f 2 }}|{{ maxf .Values.f 2 }}|{{ round 2.675 2 }}
=> 7|1|2|2.68
{{ substr 1 3 "hello" }}|{{ "hello" | substr 1 3 }}
=> el|el
{{ ternary "y" "n" .Values.t }}|{{ ternary "y" "n" (eq .Values.num 3.0) }}
=> y|y
{{ coalesce .Values.missing .Values.z "c" }}|{{ empty .Values.e }}|{{ all .Values.num .Values.s }}|{{ any .Values.z .Values.e }}
=> c|true|true|false
{{ b64enc "hello" | b64dec }}|{{ "x" | b64dec }}
=> hello|illegal base64 data at input byte 0
{{ base "a/b.c" }}|{{ ext "a/b.c" }}|{{ dir "a/b.c" }}
=> b.c|.c|a
{{ (urlParse "https://x.y:8/p?q=1").hostname }}
=> x.y
{{ toJson (list 1 "a" nil true 1.5) }}|{{ toPrettyJson (dict "a" (list 1)) }}
=> [1,"a",null,true,1.5]|{\n  "a": [\n    1\n  ]\n}
{{ cat "a" .Values.missing .Values.num .Values.l }}
=> a 3 [1 2]
{{ toString .Values.l }}|{{ toStrings .Values.l | toJson }}
=> [1 2]|["1","2"]
{{ printf "%T" (toDecimal "0777") }}={{ toDecimal "0777" }}
=> int64=511
{{ seq 3 }}|{{ atoi "12" | add 1 }}
=> 1 2 3|13
{{ plural "one" "many" (len .Values.l) }}
=> many
{{ camelcase "foo_bar" }}|{{ snakecase "FooBar" }}|{{ kebabcase "FooBar" }}|{{ title "foo bar" }}|{{ upper "x" }}
=> FooBar|foo_bar|foo-bar|Foo Bar|X
{{ contains "b" "abc" }}|{{ hasPrefix "a" "abc" }}|{{ "abc" | hasSuffix "c" }}
=> true|true|true
{{ wrapWith 3 "\n" "abc def" | toJson }}
=> "abc\\ndef"
{{ deepEqual .Values.l (list 1 2) }}|{{ deepEqual .Values.l (list 1.0 2.0) }}
=> false|true
{{ $l := append .Values.l 3 }}{{ $l }}|{{ .Values.l }}|{{ prepend .Values.l 0 }}|{{ concat .Values.l (list "x") }}
=> [1 2 3]|[1 2]|[0 1 2]|[1 2 x]
{{ without .Values.l 1 }}|{{ has 1.0 .Values.l }}|{{ has 1 .Values.l }}|{{ uniq (list 1 1 2) }}|{{ compact (list "" 1 0 "a") }}
=> [1 2]|true|false|[1 2]|[1 a]
{{ slice .Values.l 1 }}|{{ chunk 1 .Values.l }}|{{ reverse .Values.l }}|{{ initial .Values.l }}
=> [2]|[[1] [2]]|[2 1]|[1]
{{ pluck "a" .Values.m (dict "a" 5) }}|{{ pick .Values.m "a" }}|{{ omit .Values.m "a" }}|{{ hasKey .Values.m "a" }}|{{ get .Values.m "zz" | quote }}
=> [1 5]|map[a:1]|map[b:map[c:deep]]|true|""
{{ values (dict "a" 1) }}|{{ unset (dict "a" 1 "b" 2) "a" }}|{{ mergeOverwrite (dict "a" 1) (dict "a" 0) }}
=> [1]|map[b:2]|map[a:0]
{{ addf 1.5 2 }}|{{ subf 5 1.5 }}|{{ mulf 2 1.5 }}|{{ divf 3 2 }}|{{ add1f 1.5 }}|{{ add1 .Values.f }}|{{ ceil 1.1 }}|{{ floor 1.9 }}
=> 3.5|3.5|3|1.5|2.5|2|2|1
{{ float64 "1.5" }}|{{ int64 "42" }}|{{ int "7" }}|{{ typeOf (int "7") }}|{{ typeOf (float64 1) }}|{{ typeOf (atoi "1") }}
=> 1.5|42|7|int|float64|int
{{ regexMatch "^a" .Values.s }}|{{ regexFind "b+" "abbc" }}|{{ regexSplit "[0-9]" .Values.s -1 }}|{{ regexQuoteMeta "a.b" }}|{{ regexReplaceAllLiteral "a" "aa" "$1" }}
=> true|bb|[a b  ]|a\\.b|$1$1
{{ sortAlpha (list "b" "a") }}|{{ abbrev 5 "hello world" }}|{{ initials "a b" }}|{{ nospace "a b" }}|{{ swapcase "aB" }}|{{ untitle "AB" }}
=> [a b]|he...|ab|ab|Ab|aB
{{ trimAll "x" "xax" }}|{{ trimPrefix "a" "ab" }}|{{ trimSuffix "b" "ab" }}|{{ trim " a " }}|{{ replace "a" "b" "aa" }}
=> a|b|a|a|bb
{{ typeIs "float64" .Values.f }}|{{ typeIsLike "float64" .Values.f }}|{{ urlJoin (dict "scheme" "http" "host" "h") }}
=> true|true|http://h
{{ untilStep 0 6 2 }}|{{ biggest 1 2 }}|{{ sub 5 2 }}|{{ div 7 2 }}|{{ mod 7 2 }}
=> [0 2 4]|2|3|3|1
{{ hello }}|{{ mustToJson (dict "a" 1) }}|{{ mustFromJson "[1]" }}|{{ toRawJson (dict "a" "<") }}
=> Hello!|{"a":1}|[1]|{"a":"<"}
{{ fromJson "{\"a\": 1}" | toJson }}
=> {"a":1}
{{ empty (dict) }}|{{ deepCopy .Values.m | toJson }}|{{ mustDeepCopy (list 1) }}
=> true|{"a":1,"b":{"c":"deep"}}|[1]
{{ first "abc" }}
=> ERR error calling first: Cannot find first on type string
{{ first 1 }}
=> ERR error calling first: Cannot find first on type int
{{ set nil "a" 1 }}
=> ERR error calling set: assignment to entry in nil map
{{ dig "m" "a" "x" .Values }}
=> ERR error calling dig: interface conversion: interface {} is common.Values, not map[string]interface {}
{{ fail "boom" }}
=> ERR boom
{{ regexFind "(" "x" }}
=> ERR error calling regexFind: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`
{{ "x" | int | indent 2 }}
=> ERR wrong type for value; expected string; got int
{{ div 1 0 }}
=> ERR error calling div: runtime error: integer divide by zero
"##;

const VALUES: &str = r#"num: 3
f: 1.5
s: "a1b22"
l: [1, 2]
e: []
m: {a: 1, b: {c: "deep"}}
t: true
z: 0
"#;

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn sprig_functions_in_templates_match_helm() {
    use chartup::template::exec::Templates;
    use chartup::template::Map;

    let values = chartup::yaml::from_str(VALUES).expect("values parse");
    let mut named = values.as_map().expect("values map").clone();
    named.named = Some("common.Values".into());
    let top = Map::new();
    top.insert("Values", Value::Map(named));
    let data = Value::Map(top);

    let lines: Vec<&str> = TEMPLATE_CASES.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for pair in lines.chunks(2) {
        let (tpl, want) = (pair[0], pair[1].strip_prefix("=> ").expect("expectation line"));
        let mut set = Templates::new(sprig());
        let got = set
            .parse("s/templates/t.yaml", tpl)
            .and_then(|_| set.execute("s/templates/t.yaml", &data))
            .map(|out| out.replace("<no value>", ""));
        checked += 1;
        let ok = match (want.strip_prefix("ERR "), &got) {
            (Some(err), Err(e)) => e.to_string().ends_with(err),
            (None, Ok(out)) => *out == unescape(want),
            _ => false,
        };
        if !ok {
            failures.push(format!("{tpl}\n   want {want}\n    got {got:?}"));
        }
    }
    assert!(checked > 50, "only {checked} cases ran");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
