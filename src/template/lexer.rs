//! (template engine: lexer)
