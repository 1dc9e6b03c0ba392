// The MATCH_RECOGNIZE parser: a tokenizer, then recursive descent over the
// tokens. Errors are thrown as SqlError inside this file and become one
// kInvalidArgument status in ParseMatchRecognize.

#include "match_recognize.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace cep::sql {

std::string Ident::Key() const {
  return quoted ? text : absl::AsciiStrToUpper(text);
}

namespace {

struct SqlError {
  Pos pos;
  std::string message;
};

enum class Tok { kWord, kQuoted, kString, kNumber, kSymbol, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // words as written; strings without quotes; symbols
  Pos pos;
  size_t offset = 0;  // in the text
  size_t end = 0;     // offset just past the token
};

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t at = 0;
  size_t line = 1;
  size_t line_start = 0;
  auto pos_of = [&](size_t offset) {
    return Pos{line, offset - line_start + 1};
  };
  auto advance = [&](size_t to) {
    for (; at < to; ++at) {
      if (text[at] == '\n') {
        ++line;
        line_start = at + 1;
      }
    }
  };
  while (at < text.size()) {
    const char c = text[at];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
      advance(at + 1);
      continue;
    }
    if (c == '-' && at + 1 < text.size() && text[at + 1] == '-') {
      size_t end = text.find('\n', at);
      advance(end == std::string_view::npos ? text.size() : end);
      continue;
    }
    if (c == '/' && at + 1 < text.size() && text[at + 1] == '*') {
      const size_t end = text.find("*/", at + 2);
      if (end == std::string_view::npos) {
        throw SqlError{pos_of(at),
                       "unterminated comment (no '*/' closes this '/*')"};
      }
      advance(end + 2);
      continue;
    }
    Token token;
    token.pos = pos_of(at);
    token.offset = at;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = at;
      while (end < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[end])) ||
              text[end] == '_' || text[end] == '$')) {
        ++end;
      }
      token.kind = Tok::kWord;
      token.text = std::string(text.substr(at, end - at));
      advance(end);
    } else if (c == '"' || c == '`' || c == '\'') {
      const char quote = c;
      std::string value;
      size_t end = at + 1;
      for (;;) {
        if (end >= text.size()) {
          throw SqlError{token.pos, quote == '\''
                                        ? "unterminated string"
                                        : "unterminated quoted identifier"};
        }
        if (text[end] == quote) {
          if (end + 1 < text.size() && text[end + 1] == quote) {
            value += quote;
            end += 2;
            continue;
          }
          break;
        }
        value += text[end];
        ++end;
      }
      token.kind = quote == '\'' ? Tok::kString : Tok::kQuoted;
      token.text = std::move(value);
      if (token.kind == Tok::kQuoted && token.text.empty()) {
        throw SqlError{token.pos, "empty quoted identifier"};
      }
      advance(end + 1);
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && at + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[at + 1])))) {
      size_t end = at;
      auto digits = [&] {
        while (end < text.size() &&
               std::isdigit(static_cast<unsigned char>(text[end]))) {
          ++end;
        }
      };
      digits();
      if (end < text.size() && text[end] == '.') {
        ++end;
        digits();
      }
      if (end < text.size() && (text[end] == 'e' || text[end] == 'E')) {
        size_t exp = end + 1;
        if (exp < text.size() && (text[exp] == '+' || text[exp] == '-')) {
          ++exp;
        }
        if (exp < text.size() &&
            std::isdigit(static_cast<unsigned char>(text[exp]))) {
          end = exp;
          digits();
        }
      }
      token.kind = Tok::kNumber;
      token.text = std::string(text.substr(at, end - at));
      advance(end);
    } else {
      static constexpr std::string_view kTwo[] = {
          "<>", "<=", ">=", "!=", "||", "{-", "-}"};
      token.kind = Tok::kSymbol;
      token.text = std::string(1, c);
      for (std::string_view two : kTwo) {
        if (text.substr(at, 2) == two) token.text = std::string(two);
      }
      if (std::string_view("(),.;+-*/%=<>{}|?^$").find(c) ==
              std::string_view::npos &&
          token.text.size() == 1) {
        throw SqlError{token.pos, absl::StrCat("unexpected character '",
                                               std::string(1, c), "'")};
      }
      advance(at + token.text.size());
    }
    token.end = at;
    tokens.push_back(std::move(token));
  }
  Token end;
  end.kind = Tok::kEnd;
  end.pos = pos_of(text.size());
  end.offset = end.end = text.size();
  tokens.push_back(std::move(end));
  return tokens;
}

std::string Describe(const Token& token) {
  switch (token.kind) {
    case Tok::kEnd:
      return "the end of the file";
    case Tok::kString:
      return absl::StrCat("'", token.text, "'");
    default:
      return absl::StrCat("'", token.text, "'");
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  Query File() {
    Query query;
    while (IsWord("CREATE")) query.tables.push_back(CreateTable());
    if (IsWord("INSERT")) {
      Next();
      ExpectWord("INTO");
      ExpectIdent("a table name after 'INSERT INTO'");
      while (IsSymbol(".")) {
        Next();
        ExpectIdent("a name after '.'");
      }
    }
    const Token& select = Peek();
    ExpectWord("SELECT");
    query.select_pos = select.pos;
    // The select list is output shaping: matches come out as JSON lines.
    SkipUntilWord("FROM");
    ExpectWord("FROM");
    if (IsSymbol("(")) {
      throw SqlError{Peek().pos,
                     "cannot import FROM: a subquery; MATCH_RECOGNIZE must "
                     "read a table by name"};
    }
    query.table = ExpectIdent("a table name after 'FROM'");
    while (IsSymbol(".")) {
      Next();
      query.table = ExpectIdent("a name after '.'");
    }
    query.match_recognize_pos = Peek().pos;
    ExpectWord("MATCH_RECOGNIZE");
    ExpectSymbol("(");
    Body(query);
    ExpectSymbol(")");
    if (IsWord("AS")) {
      Next();
      query.alias = ExpectIdent("an alias after 'AS'");
    } else if ((Peek().kind == Tok::kWord && !IsWord("ORDER")) ||
               Peek().kind == Tok::kQuoted) {
      query.alias = ExpectIdent("an alias");
    }
    // ORDER BY of the query's output (Oracle's examples have one): matches
    // come out in time order anyway.
    if (IsWord("ORDER") && IsWord("BY", 1)) {
      while (Peek().kind != Tok::kEnd && !IsSymbol(";")) Next();
    }
    const size_t query_end = tokens_[at_ - 1].end;
    query.text =
        std::string(text_.substr(select.offset, query_end - select.offset));
    while (IsSymbol(";")) Next();
    if (Peek().kind != Tok::kEnd) {
      throw SqlError{Peek().pos,
                     absl::StrCat("expected the end of the query, found ",
                                  Describe(Peek()),
                                  "; a file holds one MATCH_RECOGNIZE query")};
    }
    return query;
  }

 private:
  // -- Tokens -----------------------------------------------------------------

  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(at_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& token = Peek();
    if (at_ < tokens_.size() - 1) ++at_;
    return token;
  }
  bool IsWord(std::string_view word, size_t ahead = 0) const {
    const Token& token = Peek(ahead);
    return token.kind == Tok::kWord &&
           absl::AsciiStrToUpper(token.text) == word;
  }
  bool IsSymbol(std::string_view symbol, size_t ahead = 0) const {
    const Token& token = Peek(ahead);
    return token.kind == Tok::kSymbol && token.text == symbol;
  }
  [[noreturn]] void Expected(const std::string& what) const {
    throw SqlError{Peek().pos, absl::StrCat("expected ", what, ", found ",
                                            Describe(Peek()))};
  }
  void ExpectWord(const std::string& word) {
    if (!IsWord(word)) Expected(absl::StrCat("'", word, "'"));
    Next();
  }
  void ExpectSymbol(const std::string& symbol) {
    if (!IsSymbol(symbol)) Expected(absl::StrCat("'", symbol, "'"));
    Next();
  }
  Ident ExpectIdent(const std::string& what) {
    const Token& token = Peek();
    if (token.kind != Tok::kWord && token.kind != Tok::kQuoted) {
      Expected(what);
    }
    Next();
    return Ident{token.text, token.kind == Tok::kQuoted, token.pos};
  }
  int64_t ExpectCount(const std::string& what) {
    const Token& token = Peek();
    if (token.kind != Tok::kNumber ||
        token.text.find_first_not_of("0123456789") != std::string::npos) {
      Expected(what);
    }
    if (token.text.size() > 9) {
      throw SqlError{token.pos,
                     absl::StrCat("count ", token.text, " is too large")};
    }
    Next();
    return std::stoll(token.text);
  }
  // Skips balanced tokens until `word` at depth 0 (not consumed).
  void SkipUntilWord(const std::string& word) {
    int depth = 0;
    while (Peek().kind != Tok::kEnd) {
      if (depth == 0 && IsWord(word)) return;
      if (IsSymbol("(")) ++depth;
      if (IsSymbol(")")) --depth;
      Next();
    }
    Expected(absl::StrCat("'", word, "'"));
  }

  // -- CREATE TABLE -----------------------------------------------------------

  TableDef CreateTable() {
    ExpectWord("CREATE");
    if (IsWord("TEMPORARY")) Next();
    ExpectWord("TABLE");
    if (IsWord("IF")) {
      Next();
      ExpectWord("NOT");
      ExpectWord("EXISTS");
    }
    TableDef table;
    table.name = ExpectIdent("a table name after 'CREATE TABLE'");
    while (IsSymbol(".")) {
      Next();
      table.name = ExpectIdent("a name after '.'");
    }
    ExpectSymbol("(");
    for (;;) {
      const bool constraint =
          Peek().kind == Tok::kWord &&
          (IsWord("WATERMARK") || IsWord("PRIMARY") || IsWord("CONSTRAINT") ||
           IsWord("PERIOD") || IsWord("UNIQUE") || IsWord("FOREIGN") ||
           IsWord("CHECK"));
      if (!constraint) {
        ColumnDef column;
        column.name = ExpectIdent("a column name");
        column.type_pos = Peek().pos;
        if (Peek().kind == Tok::kWord && !IsWord("AS")) {
          column.type = absl::AsciiStrToUpper(Peek().text);
          table.columns.push_back(std::move(column));
        }
      }
      // The rest of the column (sizes, NOT NULL, a computed column's
      // expression) up to the next top-level comma.
      int depth = 0;
      while (Peek().kind != Tok::kEnd) {
        if (depth == 0 && (IsSymbol(",") || IsSymbol(")"))) break;
        if (IsSymbol("(")) ++depth;
        if (IsSymbol(")")) --depth;
        Next();
      }
      if (IsSymbol(",")) {
        Next();
        continue;
      }
      ExpectSymbol(")");
      break;
    }
    // WITH (...) options and anything else up to the semicolon.
    while (Peek().kind != Tok::kEnd && !IsSymbol(";")) Next();
    ExpectSymbol(";");
    return table;
  }

  // -- MATCH_RECOGNIZE ( ... ) ------------------------------------------------

  void Body(Query& query) {
    if (IsWord("PARTITION")) {
      query.partition_by_pos = Peek().pos;
      Next();
      ExpectWord("BY");
      query.partition_by.push_back(
          ExpectIdent("a column after 'PARTITION BY'"));
      while (IsSymbol(",")) {
        Next();
        query.partition_by.push_back(ExpectIdent("a column after ','"));
      }
    }
    query.order_by_pos = Peek().pos;
    if (IsWord("ORDER")) {
      Next();
      ExpectWord("BY");
      for (;;) {
        Query::OrderItem item;
        item.column = ExpectIdent("a column after 'ORDER BY'");
        item.direction_pos = Peek().pos;
        if (IsWord("ASC")) {
          Next();
        } else if (IsWord("DESC")) {
          item.descending = true;
          Next();
        }
        query.order_by.push_back(std::move(item));
        if (!IsSymbol(",")) break;
        Next();
      }
    }
    if (IsWord("MEASURES")) {
      Next();
      Measures(query);
    }
    query.rows_pos = Peek().pos;
    if (IsWord("ONE")) {
      Next();
      ExpectWord("ROW");
      ExpectWord("PER");
      ExpectWord("MATCH");
      query.rows = Query::Rows::kOneRow;
    } else if (IsWord("ALL")) {
      Next();
      ExpectWord("ROWS");
      ExpectWord("PER");
      ExpectWord("MATCH");
      query.rows = Query::Rows::kAllRows;
      const size_t from = Peek().offset;
      size_t to = from;
      while (Peek().kind == Tok::kWord && !IsWord("AFTER") &&
             !IsWord("PATTERN")) {
        to = Next().end;
      }
      query.rows_extra = std::string(text_.substr(from, to - from));
    }
    if (IsWord("AFTER")) {
      query.skip_pos = Peek().pos;
      Next();
      ExpectWord("MATCH");
      ExpectWord("SKIP");
      if (IsWord("PAST")) {
        Next();
        ExpectWord("LAST");
        ExpectWord("ROW");
        query.skip = Query::Skip::kPastLastRow;
      } else if (IsWord("TO")) {
        Next();
        if (IsWord("NEXT")) {
          Next();
          ExpectWord("ROW");
          query.skip = Query::Skip::kToNextRow;
        } else if (IsWord("FIRST")) {
          Next();
          query.skip = Query::Skip::kToFirst;
          query.skip_var = ExpectIdent("a variable after 'TO FIRST'");
        } else {
          if (IsWord("LAST")) Next();
          query.skip = Query::Skip::kToLast;
          query.skip_var = ExpectIdent("a variable after 'TO LAST'");
        }
      } else {
        Expected("'PAST LAST ROW' or 'TO' after 'AFTER MATCH SKIP'");
      }
    }
    query.pattern_pos = Peek().pos;
    ExpectWord("PATTERN");
    const Token& open = Peek();
    ExpectSymbol("(");
    query.pattern = Alternation(open.pos);
    ExpectSymbol(")");
    if (IsWord("WITHIN")) {
      Next();
      if (!IsWord("INTERVAL")) Expected("'INTERVAL' after 'WITHIN'");
      query.within = Primary();
      if (query.within->kind != Expr::Kind::kInterval) {
        throw SqlError{query.within->pos,
                       "expected INTERVAL 'N' UNIT after 'WITHIN'"};
      }
    }
    if (IsWord("SUBSET")) {
      query.subset_pos = Peek().pos;
      SkipUntilWord("DEFINE");
    }
    if (IsWord("DEFINE")) {
      query.define_pos = Peek().pos;
      Next();
      for (;;) {
        Define define;
        define.var = ExpectIdent("a pattern variable in DEFINE");
        ExpectWord("AS");
        define.condition_pos = Peek().pos;
        define.condition = Expression();
        query.defines.push_back(std::move(define));
        if (!IsSymbol(",")) break;
        Next();
      }
    }
  }

  void Measures(Query& query) {
    for (;;) {
      const Token& first = Peek();
      size_t end = first.offset;
      int depth = 0;
      while (Peek().kind != Tok::kEnd) {
        if (depth == 0 &&
            (IsSymbol(",") || IsSymbol(")") || IsWord("ONE") || IsWord("ALL") ||
             IsWord("AFTER") || IsWord("PATTERN"))) {
          break;
        }
        if (IsSymbol("(")) ++depth;
        if (IsSymbol(")")) --depth;
        end = Next().end;
      }
      if (end == first.offset) Expected("a measure after 'MEASURES'");
      std::string measure;
      // One line, spaces collapsed.
      for (char c : text_.substr(first.offset, end - first.offset)) {
        const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (space) {
          if (!measure.empty() && measure.back() != ' ') measure += ' ';
        } else {
          measure += c;
        }
      }
      query.measures.push_back(Measure{std::move(measure), first.pos});
      if (!IsSymbol(",")) break;
      Next();
    }
  }

  // -- PATTERN ----------------------------------------------------------------

  PatternNode Alternation(Pos pos) {
    Nest nest(*this);
    PatternNode first = Sequence(pos);
    if (!IsSymbol("|")) return first;
    PatternNode alternation;
    alternation.kind = PatternNode::Kind::kAlternation;
    alternation.pos = pos;
    alternation.items.push_back(std::move(first));
    while (IsSymbol("|")) {
      const Pos bar = Next().pos;
      if (alternation.items.size() == 1) alternation.pos = bar;
      alternation.items.push_back(Sequence(Peek().pos));
    }
    return alternation;
  }

  PatternNode Sequence(Pos pos) {
    PatternNode sequence;
    sequence.kind = PatternNode::Kind::kSequence;
    sequence.pos = pos;
    for (;;) {
      const Token& token = Peek();
      PatternNode term;
      term.pos = token.pos;
      if (token.kind == Tok::kWord && IsWord("PERMUTE") && IsSymbol("(", 1)) {
        Next();
        Next();
        term.kind = PatternNode::Kind::kPermute;
        int depth = 1;
        while (Peek().kind != Tok::kEnd && depth > 0) {
          if (IsSymbol("(")) ++depth;
          if (IsSymbol(")")) --depth;
          Next();
        }
      } else if (token.kind == Tok::kWord || token.kind == Tok::kQuoted) {
        term.kind = PatternNode::Kind::kVariable;
        term.var = ExpectIdent("a pattern variable");
      } else if (IsSymbol("(")) {
        Next();
        term = Alternation(token.pos);
        if (term.kind == PatternNode::Kind::kSequence) {
          term.parenthesised = true;
        }
        ExpectSymbol(")");
      } else if (IsSymbol("^") || IsSymbol("$")) {
        Next();
        term.kind = PatternNode::Kind::kAnchor;
        term.var.text = token.text;
      } else if (IsSymbol("{-")) {
        Next();
        term = Alternation(token.pos);
        term.kind = term.kind == PatternNode::Kind::kSequence
                        ? PatternNode::Kind::kExclusion
                        : term.kind;
        term.pos = token.pos;
        ExpectSymbol("-}");
      } else {
        break;
      }
      term.quantifier = QuantifierOpt();
      sequence.items.push_back(std::move(term));
    }
    if (sequence.items.empty()) Expected("a pattern variable");
    return sequence;
  }

  Quantifier QuantifierOpt() {
    Quantifier q;
    const Token& token = Peek();
    q.pos = token.pos;
    if (IsSymbol("*")) {
      q.min = 0;
      q.max = -1;
      Next();
    } else if (IsSymbol("+")) {
      q.min = 1;
      q.max = -1;
      Next();
    } else if (IsSymbol("?")) {
      q.min = 0;
      q.max = 1;
      Next();
    } else if (IsSymbol("{")) {
      Next();
      if (IsSymbol(",")) {
        Next();
        q.min = 0;
        q.max = ExpectCount("a count after '{,'");
      } else {
        q.min = ExpectCount("a count after '{'");
        if (IsSymbol(",")) {
          Next();
          q.max = IsSymbol("}") ? -1 : ExpectCount("a count or '}' after ','");
        } else {
          q.max = q.min;
        }
      }
      ExpectSymbol("}");
    } else {
      return q;
    }
    q.present = true;
    if (IsSymbol("?")) {
      q.reluctant = true;
      Next();
    }
    q.text = std::string(
        text_.substr(token.offset, tokens_[at_ - 1].end - token.offset));
    return q;
  }

  // -- Nesting ----------------------------------------------------------------
  // Parentheses, NOT, unary minus and groups recurse; past kMaxNesting
  // levels the text is refused before the stack runs out.
  static constexpr int kMaxNesting = 100;
  static constexpr int kMaxDepth = 1000;

  class Nest {
   public:
    explicit Nest(Parser& parser) : parser_(parser) {
      if (++parser_.nesting_ > kMaxNesting) {
        throw SqlError{
            parser_.Peek().pos,
            absl::StrCat("nesting deeper than ", kMaxNesting, " levels")};
      }
    }
    ~Nest() { --parser_.nesting_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Parser& parser_;
  };

  // Sets e.depth from its arguments; refuses a tree deeper than kMaxDepth.
  static Expr Deepen(Expr e) {
    int depth = 0;
    for (const Expr& arg : e.args) depth = std::max(depth, arg.depth);
    e.depth = depth + 1;
    if (e.depth > kMaxDepth) {
      throw SqlError{e.pos, absl::StrCat("the condition is nested deeper than ",
                                         kMaxDepth, " operations")};
    }
    return e;
  }

  // -- Expressions ------------------------------------------------------------
  // OR < AND < NOT < comparison, IS, BETWEEN, IN, LIKE < + - || < * / % <
  // unary - + < primary.

  Expr Expression() {
    Nest nest(*this);
    return Or();
  }

  Expr MakeBinary(std::string op, Pos pos, Expr lhs, Expr rhs) {
    Expr e;
    e.kind = Expr::Kind::kBinary;
    e.op = std::move(op);
    e.pos = pos;
    e.args.push_back(std::move(lhs));
    e.args.push_back(std::move(rhs));
    return Deepen(std::move(e));
  }

  Expr Or() {
    Expr lhs = And();
    while (IsWord("OR")) {
      const Pos pos = Next().pos;
      lhs = MakeBinary("OR", pos, std::move(lhs), And());
    }
    return lhs;
  }

  Expr And() {
    Expr lhs = Not();
    while (IsWord("AND")) {
      const Pos pos = Next().pos;
      lhs = MakeBinary("AND", pos, std::move(lhs), Not());
    }
    return lhs;
  }

  Expr Not() {
    if (IsWord("NOT")) {
      Expr e;
      e.kind = Expr::Kind::kUnary;
      e.op = "NOT";
      e.pos = Next().pos;
      Nest nest(*this);
      e.args.push_back(Not());
      return Deepen(std::move(e));
    }
    return Comparison();
  }

  Expr Comparison() {
    Expr lhs = Additive();
    const Token& token = Peek();
    static constexpr std::string_view kOps[] = {"=",  "<>", "!=", "<",
                                                "<=", ">",  ">="};
    for (std::string_view op : kOps) {
      if (IsSymbol(op)) {
        Next();
        return MakeBinary(op == "!=" ? "<>" : std::string(op), token.pos,
                          std::move(lhs), Additive());
      }
    }
    if (IsWord("IS")) {
      Next();
      Expr e;
      e.kind = Expr::Kind::kIsNull;
      e.pos = token.pos;
      if (IsWord("NOT")) {
        Next();
        e.negated = true;
      }
      ExpectWord("NULL");
      e.args.push_back(std::move(lhs));
      return Deepen(std::move(e));
    }
    bool negated = false;
    if (IsWord("NOT") &&
        (IsWord("BETWEEN", 1) || IsWord("IN", 1) || IsWord("LIKE", 1))) {
      Next();
      negated = true;
    }
    if (IsWord("BETWEEN")) {
      Next();
      Expr e;
      e.kind = Expr::Kind::kBetween;
      e.pos = token.pos;
      e.negated = negated;
      e.args.push_back(std::move(lhs));
      e.args.push_back(Additive());
      ExpectWord("AND");
      e.args.push_back(Additive());
      return Deepen(std::move(e));
    }
    if (IsWord("IN")) {
      Next();
      Expr e;
      e.kind = Expr::Kind::kIn;
      e.pos = token.pos;
      e.negated = negated;
      e.args.push_back(std::move(lhs));
      ExpectSymbol("(");
      e.args.push_back(Expression());
      while (IsSymbol(",")) {
        Next();
        e.args.push_back(Expression());
      }
      ExpectSymbol(")");
      return Deepen(std::move(e));
    }
    if (IsWord("LIKE")) {
      Next();
      Expr e = MakeBinary("LIKE", token.pos, std::move(lhs), Additive());
      if (IsWord("ESCAPE")) {
        throw SqlError{Peek().pos,
                       "cannot import LIKE ... ESCAPE: only '%' wildcards at "
                       "the ends of a pattern are imported"};
      }
      if (!negated) return e;
      Expr n;
      n.kind = Expr::Kind::kUnary;
      n.op = "NOT";
      n.pos = token.pos;
      n.args.push_back(std::move(e));
      return Deepen(std::move(n));
    }
    if (negated) Expected("'BETWEEN', 'IN' or 'LIKE' after 'NOT'");
    return lhs;
  }

  Expr Additive() {
    Expr lhs = Multiplicative();
    while (IsSymbol("+") || IsSymbol("-") || IsSymbol("||")) {
      const Token& token = Next();
      lhs = MakeBinary(token.text, token.pos, std::move(lhs), Multiplicative());
    }
    return lhs;
  }

  Expr Multiplicative() {
    Expr lhs = Unary();
    while (IsSymbol("*") || IsSymbol("/") || IsSymbol("%")) {
      const Token& token = Next();
      lhs = MakeBinary(token.text, token.pos, std::move(lhs), Unary());
    }
    return lhs;
  }

  Expr Unary() {
    if (IsSymbol("-") || IsSymbol("+")) {
      Expr e;
      e.kind = Expr::Kind::kUnary;
      e.op = Peek().text;
      e.pos = Next().pos;
      Nest nest(*this);
      e.args.push_back(Unary());
      return Deepen(std::move(e));
    }
    return Primary();
  }

  Expr Primary() {
    const Token& token = Peek();
    Expr e;
    e.pos = token.pos;
    if (token.kind == Tok::kNumber) {
      e.kind = Expr::Kind::kNumber;
      e.text = Next().text;
      return e;
    }
    if (token.kind == Tok::kString) {
      e.kind = Expr::Kind::kString;
      e.text = Next().text;
      return e;
    }
    if (IsSymbol("(")) {
      Next();
      Expr inner = Expression();
      ExpectSymbol(")");
      return inner;
    }
    if (token.kind == Tok::kWord) {
      const std::string word = absl::AsciiStrToUpper(token.text);
      if (word == "TRUE" || word == "FALSE") {
        Next();
        e.kind = Expr::Kind::kBool;
        e.text = word;
        return e;
      }
      if (word == "NULL") {
        Next();
        e.kind = Expr::Kind::kNull;
        return e;
      }
      if (word == "INTERVAL" && Peek(1).kind == Tok::kString) {
        return Interval();
      }
      if (word == "CASE" || word == "CAST" || word == "RUNNING" ||
          word == "FINAL" || word == "EXISTS" ||
          ((word == "TIMESTAMP" || word == "DATE" || word == "TIME") &&
           Peek(1).kind == Tok::kString)) {
        throw SqlError{token.pos,
                       absl::StrCat("cannot import DEFINE: ", word,
                                    " has no equivalent in the pattern "
                                    "language")};
      }
    }
    if (token.kind == Tok::kWord || token.kind == Tok::kQuoted) {
      Ident first = ExpectIdent("a value");
      if (token.kind == Tok::kWord && IsSymbol("(")) {
        Next();
        e.kind = Expr::Kind::kCall;
        e.text = absl::AsciiStrToUpper(first.text);
        if (IsWord("DISTINCT")) {
          Next();
          e.distinct = true;
        }
        if (!IsSymbol(")")) {
          if (IsSymbol("*")) {
            Expr star;
            star.kind = Expr::Kind::kColumn;
            star.pos = Next().pos;
            star.name.text = "*";
            e.args.push_back(std::move(star));
          } else {
            e.args.push_back(Expression());
          }
          while (IsSymbol(",")) {
            Next();
            e.args.push_back(Expression());
          }
        }
        ExpectSymbol(")");
        return Deepen(std::move(e));
      }
      e.kind = Expr::Kind::kColumn;
      if (IsSymbol(".")) {
        Next();
        e.qualifier = std::move(first);
        if (IsSymbol("*")) {
          e.name.pos = Next().pos;
          e.name.text = "*";
        } else {
          e.name = ExpectIdent("a column after '.'");
        }
      } else {
        e.name = std::move(first);
      }
      return e;
    }
    Expected("a value");
  }

  // INTERVAL '10' MINUTE: a whole or decimal count of one unit.
  Expr Interval() {
    Expr e;
    e.kind = Expr::Kind::kInterval;
    e.pos = Next().pos;
    const Token& count = Next();
    const Token& unit = Peek();
    std::string name = absl::AsciiStrToUpper(unit.text);
    if (unit.kind != Tok::kWord) {
      Expected("a unit (SECOND, MINUTE, HOUR, DAY) after the interval");
    }
    Next();
    if (name.size() > 1 && name.back() == 'S') name.pop_back();
    int64_t unit_ms = 0;
    if (name == "MILLISECOND") unit_ms = 1;
    if (name == "SECOND") unit_ms = 1000;
    if (name == "MINUTE") unit_ms = 60 * 1000;
    if (name == "HOUR") unit_ms = 60 * 60 * 1000;
    if (name == "DAY") unit_ms = 24 * 60 * 60 * 1000;
    if (unit_ms == 0 || IsWord("TO")) {
      throw SqlError{unit.pos,
                     absl::StrCat("cannot import INTERVAL ... ", unit.text,
                                  ": only one of MILLISECOND, SECOND, "
                                  "MINUTE, HOUR, DAY is imported")};
    }
    const std::string& digits = count.text;
    char* end = nullptr;
    const double value = std::strtod(digits.c_str(), &end);
    const bool plain =
        !digits.empty() &&
        digits.find_first_not_of("0123456789.") == std::string::npos;
    const double ms = value * static_cast<double>(unit_ms);
    if (!plain || end != digits.c_str() + digits.size() || ms < 1 ||
        ms > 9.2e15 || ms != std::floor(ms)) {
      throw SqlError{
          count.pos,
          absl::StrCat("cannot import INTERVAL '", digits, "' ", unit.text,
                       ": the count must be a positive number of "
                       "whole milliseconds")};
    }
    e.interval_ms = static_cast<int64_t>(ms);
    e.text = absl::StrCat("'", digits, "' ", name);
    return e;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t at_ = 0;
  int nesting_ = 0;
};

}  // namespace

absl::StatusOr<Query> ParseMatchRecognize(std::string_view text,
                                          std::string_view filename) {
  try {
    Parser parser(text, Tokenize(text));
    return parser.File();
  } catch (const SqlError& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(filename), ":", error.pos.line, ":",
                     error.pos.col, ": error: ", error.message));
  }
}

}  // namespace cep::sql
