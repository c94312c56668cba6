//! `--set`, `--set-string`, `--set-json` and `--set-literal` strings through `ValueOptions`,
//! against `helm template` (4.1.4) printing `{{ toJson .Values }}` for each one alone (or its
//! `Error:` line). The table was produced by running the real helm on every input.

use crate::chart_support as support;

use chartup::chart::ValueOptions;

const CASES: &[(&str, &str, &str)] = &[
    ("set", r#"a=1,b=2"#, r#"{"a":1,"b":2}"#),
    ("set", r#"a.b=c,a.d=e"#, r#"{"a":{"b":"c","d":"e"}}"#),
    ("set", r#"a[0]=1,a[0]=2"#, r#"{"a":[2]}"#),
    ("set", r#"a[1].b=1,a[0]=x"#, r#"{"a":["x",{"b":1}]}"#),
    ("set", r#"a[0].b=1,a[0].c.d=2"#, r#"{"a":[{"b":1,"c":{"d":2}}]}"#),
    ("set", r#"a[0][1][2]=3"#, r#"{"a":[[null,[null,null,3]]]}"#),
    ("set", r#"a={}"#, r#"{"a":[""]}"#),
    ("set", r#"a={,}"#, r#"{"a":["",""]}"#),
    (
        "set",
        r#"a={a}x"#,
        r#"Error: failed parsing --set data: key "x" has no value"#,
    ),
    ("set", r#"a={b},c=d"#, r#"{"a":["b"],"c":"d"}"#),
    ("set", r#"a=b=c"#, r#"{"a":"b=c"}"#),
    ("set", r#"a=="#, r#"{"a":"="}"#),
    ("set", r#"=x"#, r#"{}"#),
    ("set", r#"a\=b=c"#, r#"{"a=b":"c"}"#),
    ("set", r#"a=\{b\}"#, r#"{"a":"{b}"}"#),
    ("set", r#"a=x\"#, r#"{"a":"x"}"#),
    ("set", r#"a[0]=1,a[0].b=2"#, r#"{"a":[{"b":2}]}"#),
    (
        "set",
        r#"a.b=1,a.b[0]=2"#,
        r#"Error: failed parsing --set data: unable to parse key: interface conversion: interface {} is int64, not []interface {}"#,
    ),
    (
        "set",
        r#"a=[1,2]"#,
        r#"Error: failed parsing --set data: key "2]" has no value"#,
    ),
    (
        "set",
        r#"a=1e3,b=0x10,c=+5,d=-0,e=1_000"#,
        r#"{"a":"1e3","b":"0x10","c":5,"d":0,"e":"1_000"}"#,
    ),
    ("set", r#"a=  b ,c= 1"#, r#"{"a":"  b ","c":" 1"}"#),
    ("set", r#"a.b.c.d=1,a.b=2"#, r#"{"a":{"b":2}}"#),
    ("set", r#"name=value,name2="#, r#"{"name":"value","name2":""}"#),
    ("set", r#"a[0]=b,a[3]"#, r#"{"a":["b"]}"#),
    ("set", r#"a[3]"#, r#"{"a":[]}"#),
    ("set", r#"a[0]"#, r#"{"a":[]}"#),
    ("set", r#"x.y[0]=1,x.y[0].z=2"#, r#"{"x":{"y":[{"z":2}]}}"#),
    (
        "set",
        r#"a[]=1"#,
        r#"Error: failed parsing --set data: error parsing index: strconv.Atoi: parsing "": invalid syntax"#,
    ),
    (
        "set",
        r#"a[ 1]=1"#,
        r#"Error: failed parsing --set data: error parsing index: strconv.Atoi: parsing " 1": invalid syntax"#,
    ),
    ("set", r#"a[+1]=1"#, r#"{"a":[null,1]}"#),
    (
        "set",
        r#"a[0]b=1"#,
        r#"Error: failed parsing --set data: unexpected data at end of array index: ['b']"#,
    ),
    (
        "set",
        r#"a.[0]=1"#,
        r#"Error: failed parsing --set data: key map "a" has no value"#,
    ),
    (
        "set",
        r#"a..b=1"#,
        r#"Error: failed parsing --set data: key map "a" has no value"#,
    ),
    ("set", r#"a[0]={x,y}"#, r#"{"a":[["x","y"]]}"#),
    ("set", r#"a[0]="#, r#"{"a":[""]}"#),
    (
        "set",
        r#",a=1"#,
        r#"Error: failed parsing --set data: key "" has no value (cannot end with ,)"#,
    ),
    ("set", r#"a=1,"#, r#"{"a":1}"#),
    ("set", r#"a=TRUE,b=nULL,c=False"#, r#"{"a":true,"b":null,"c":false}"#),
    (
        "set",
        r#"a=null,a.b=1"#,
        r#"Error: failed parsing --set data: unable to parse key: interface conversion: interface {} is nil, not map[string]interface {}"#,
    ),
    ("str", r#"a=1,b=true,c=null"#, r#"{"a":"1","b":"true","c":"null"}"#),
    ("str", r#"a[0]=1,a[1]=x"#, r#"{"a":["1","x"]}"#),
    ("str", r#"a={1,2}"#, r#"{"a":["1","2"]}"#),
    (
        "json",
        r#"a=1,b="x",c=[1,{"d":null}],e=true"#,
        r#"{"a":1,"b":"x","c":[1,{"d":null}],"e":true}"#,
    ),
    ("json", r#"a=null"#, r#"{"a":null}"#),
    ("json", r#"a="#, r#"{"a":null}"#),
    ("json", r#"a= ,b=2"#, r#"{"a":null,"b":2}"#),
    ("json", r#"a[1]={"x":1}"#, r#"{"a":[null,{"x":1}]}"#),
    ("json", r#"a=1 b=2"#, r#"{"a":1,"b":2}"#),
    ("json", r#"{"a":{"b":1}}"#, r#"{"a":{"b":1}}"#),
    ("json", r#"a.b=[1,2]"#, r#"{"a":{"b":[1,2]}}"#),
    ("lit", r#"a=1,b=2"#, r#"{"a":"1,b=2"}"#),
    ("lit", r#"a.b[1]=x{y}\z"#, r#"{"a":{"b":[null,"x{y}\\z"]}}"#),
    ("lit", r#"a[0].b=c"#, r#"{"a":[{"b":"c"}]}"#),
    (
        "lit",
        r#"a"#,
        r#"Error: failed parsing --set-literal data: key "a" has no value"#,
    ),
    ("lit", r#"a[0]"#, r#"{"a":[]}"#),
    (
        "lit",
        r#".=x"#,
        r#"Error: failed parsing --set-literal data: key map "" has no value"#,
    ),
];

#[test]
fn strvals_match_helm() {
    let mut failures = Vec::new();
    for (kind, arg, want) in CASES {
        let mut o = ValueOptions::default();
        match *kind {
            "set" => o.set.push(arg.to_string()),
            "str" => o.set_string.push(arg.to_string()),
            "json" => o.set_json.push(arg.to_string()),
            "lit" => o.set_literal.push(arg.to_string()),
            _ => unreachable!(),
        }
        let got = match o.merge_values() {
            Ok(v) => support::go_json(&v),
            Err(e) => format!("Error: {e}"),
        };
        if got != *want {
            failures.push(format!("{kind} {arg}\n  helm: {want}\n  ours: {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
