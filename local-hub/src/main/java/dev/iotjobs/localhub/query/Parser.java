package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.iotjobs.localhub.query.Ast.Expr;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Recursive-descent parser for SELECT statements and bare WHERE conditions (see README for the grammar). */
final class Parser extends TokenCursor {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    /** Words that cannot start a property path (escape them as {@code [[word]]} after a dot). */
    static final Set<String> RESERVED = Set.of(
            "SELECT", "FROM", "WHERE", "GROUP", "BY", "AND", "OR", "NOT", "IN", "NIN", "AS", "TOP",
            "TRUE", "FALSE", "NULL", "UNDEFINED");

    private Parser(String text) {
        super(Lexer.tokenize(text));
    }

    /** Parses a complete {@code SELECT ... FROM ...} statement. */
    static Ast.Statement parseStatement(String text) {
        Parser parser = new Parser(text);
        return parser.statement();
    }

    /** Parses a bare condition (a job queryCondition / WHERE body) that must span the whole text. */
    static Expr parseCondition(String text) {
        Parser parser = new Parser(text);
        Token first = parser.peek();
        if (first.isKeyword("SELECT") || first.isKeyword("FROM") || first.isKeyword("WHERE")) {
            throw Errors.semantic(first.position(), "a queryCondition is only the WHERE body (e.g. deviceId = 'd1'),"
                    + " it must not start with " + first.text().toUpperCase(Locale.ROOT));
        }
        if (first.is(TokenType.EOF)) {
            throw Errors.syntax(first.position(), "expected a condition but found end of query");
        }
        Expr e = parser.condition();
        if (!parser.peek().is(TokenType.EOF)) {
            throw parser.unexpected("AND, OR or end of condition");
        }
        return e;
    }

    // ---------------------------------------------------------------- statement

    private Ast.Statement statement() {
        expectKeyword("SELECT");
        long top = -1;
        if (peek().isKeyword("TOP")) {
            next();
            Token n = peek();
            if (!n.is(TokenType.NUMBER) || !n.text().chars().allMatch(Character::isDigit)) {
                throw unexpected("a non-negative integer after TOP");
            }
            next();
            try {
                top = Long.parseLong(n.text());
            } catch (NumberFormatException e) {
                throw Errors.syntax(n.position(), "TOP value " + n.text() + " is too large");
            }
        }
        List<Ast.SelectItem> items = new ArrayList<>();
        if (peek().is(TokenType.STAR)) {
            next();
        } else {
            items.add(selectItem());
            while (accept(TokenType.COMMA)) {
                items.add(selectItem());
            }
        }
        expectKeyword("FROM");
        Source source = source();
        Expr where = null;
        if (peek().isKeyword("WHERE")) {
            next();
            where = condition();
        }
        List<Ast.Path> groupBy = new ArrayList<>();
        if (peek().isKeyword("GROUP")) {
            next();
            expectKeyword("BY");
            groupBy.add(path());
            while (accept(TokenType.COMMA)) {
                groupBy.add(path());
            }
        }
        if (!peek().is(TokenType.EOF)) {
            throw unexpected(where == null && groupBy.isEmpty() ? "WHERE, GROUP BY or end of query"
                    : groupBy.isEmpty() ? "AND, OR, GROUP BY or end of query" : "',' or end of query");
        }
        return new Ast.Statement(top, List.copyOf(items), source, where, List.copyOf(groupBy));
    }

    private Ast.SelectItem selectItem() {
        Token t = peek();
        Ast.Path path = null;
        Ast.Aggregate aggregate = null;
        if (t.is(TokenType.IDENT) && peekAt(1).is(TokenType.LPAREN)) {
            aggregate = aggregate(t);
            next();
            next();
            if (aggregate != Ast.Aggregate.COUNT) {
                path = path();
            }
            expect(TokenType.RPAREN, aggregate == Ast.Aggregate.COUNT ? "')' (COUNT takes no argument)" : "')'");
        } else if (t.is(TokenType.IDENT) && !RESERVED.contains(t.text().toUpperCase(Locale.ROOT))) {
            path = path();
        } else {
            throw unexpected("'*', a property path or an aggregate such as COUNT()");
        }
        String alias = null;
        if (peek().isKeyword("AS")) {
            next();
            Token a = peek();
            if (!a.is(TokenType.IDENT) || RESERVED.contains(a.text().toUpperCase(Locale.ROOT))) {
                throw unexpected("an alias name after AS");
            }
            next();
            alias = a.text();
        }
        return new Ast.SelectItem(path, aggregate, alias, t.position());
    }

    private static Ast.Aggregate aggregate(Token name) {
        try {
            return Ast.Aggregate.valueOf(name.text().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw Errors.semantic(name.position(), "unknown aggregate function '" + name.text()
                    + "' (supported in SELECT: COUNT, SUM, AVG, MIN, MAX)");
        }
    }

    private Source source() {
        Token t = peek();
        if (!t.isKeyword("devices")) {
            throw unexpected("devices, devices.modules or devices.jobs");
        }
        next();
        if (!accept(TokenType.DOT)) {
            return Source.DEVICES;
        }
        Token sub = peek();
        if (sub.isKeyword("modules")) {
            next();
            return Source.DEVICES_MODULES;
        }
        if (sub.isKeyword("jobs")) {
            next();
            return Source.DEVICES_JOBS;
        }
        throw unexpected("modules or jobs after 'devices.'");
    }

    // ---------------------------------------------------------------- conditions

    Expr condition() {
        Expr left = and();
        while (peek().isKeyword("OR")) {
            Token op = next();
            left = new Ast.Logical(Ast.LogicalOp.OR, left, and(), op.position());
        }
        return left;
    }

    private Expr and() {
        Expr left = not();
        while (peek().isKeyword("AND")) {
            Token op = next();
            left = new Ast.Logical(Ast.LogicalOp.AND, left, not(), op.position());
        }
        return left;
    }

    private Expr not() {
        if (peek().isKeyword("NOT")) {
            Token op = next();
            return new Ast.Not(not(), op.position());
        }
        return predicate();
    }

    private Expr predicate() {
        Expr left = sum();
        Token t = peek();
        Ast.CompareOp op = switch (t.type()) {
            case EQ -> Ast.CompareOp.EQ;
            case NE -> Ast.CompareOp.NE;
            case LT -> Ast.CompareOp.LT;
            case GT -> Ast.CompareOp.GT;
            case LE -> Ast.CompareOp.LE;
            case GE -> Ast.CompareOp.GE;
            default -> null;
        };
        if (op != null) {
            next();
            return new Ast.Compare(op, left, sum(), t.position());
        }
        if (t.isKeyword("IN") || t.isKeyword("NIN")) {
            next();
            return new Ast.In(left, arrayLiteral(), t.isKeyword("NIN"), t.position());
        }
        if (t.isKeyword("NOT") && peekAt(1).isKeyword("IN")) {
            next();
            next();
            return new Ast.In(left, arrayLiteral(), true, t.position());
        }
        return left;
    }

    private Expr sum() {
        Expr left = product();
        while (peek().is(TokenType.PLUS) || peek().is(TokenType.MINUS)) {
            Token op = next();
            Ast.ArithOp kind = op.is(TokenType.PLUS) ? Ast.ArithOp.ADD : Ast.ArithOp.SUB;
            left = new Ast.Arith(kind, left, product(), op.position());
        }
        return left;
    }

    private Expr product() {
        Expr left = unary();
        while (peek().is(TokenType.STAR) || peek().is(TokenType.SLASH) || peek().is(TokenType.PERCENT)) {
            Token op = next();
            Ast.ArithOp kind = op.is(TokenType.STAR) ? Ast.ArithOp.MUL
                    : op.is(TokenType.SLASH) ? Ast.ArithOp.DIV : Ast.ArithOp.MOD;
            left = new Ast.Arith(kind, left, unary(), op.position());
        }
        return left;
    }

    private Expr unary() {
        if (peek().is(TokenType.MINUS)) {
            Token op = next();
            Expr operand = unary();
            if (operand instanceof Ast.Literal lit && lit.value() != null && lit.value().isNumber()) {
                return new Ast.Literal(Literals.negate(lit.value()), op.position());
            }
            return new Ast.Negate(operand, op.position());
        }
        if (peek().is(TokenType.PLUS)) {
            next();
            return unary();
        }
        return operand();
    }

    private Expr operand() {
        Token t = peek();
        switch (t.type()) {
            case STRING -> {
                next();
                return new Ast.Literal(F.textNode(t.text()), t.position());
            }
            case NUMBER -> {
                next();
                return new Ast.Literal(Literals.number(t), t.position());
            }
            case LBRACKET -> {
                return new Ast.Literal(F.arrayNode().addAll(arrayLiteral()), t.position());
            }
            case LPAREN -> {
                next();
                Expr inner = condition();
                expect(TokenType.RPAREN, "')'");
                return inner;
            }
            case IDENT -> {
                String upper = t.text().toUpperCase(Locale.ROOT);
                switch (upper) {
                    case "TRUE", "FALSE" -> {
                        next();
                        return new Ast.Literal(F.booleanNode(upper.equals("TRUE")), t.position());
                    }
                    case "NULL" -> {
                        next();
                        return new Ast.Literal(F.nullNode(), t.position());
                    }
                    case "UNDEFINED" -> {
                        next();
                        return new Ast.Literal(null, t.position());
                    }
                    default -> {
                        if (peekAt(1).is(TokenType.LPAREN)) {
                            return call();
                        }
                        if (RESERVED.contains(upper)) {
                            throw unexpected("a value, property path or function call");
                        }
                        return path();
                    }
                }
            }
            default -> throw unexpected("a value, property path or function call");
        }
    }

    private Expr call() {
        Token name = next();
        next();
        List<Expr> args = new ArrayList<>();
        if (!peek().is(TokenType.RPAREN)) {
            args.add(condition());
            while (accept(TokenType.COMMA)) {
                args.add(condition());
            }
        }
        expect(TokenType.RPAREN, "')' or ','");
        return new Ast.Call(name.text(), List.copyOf(args), name.position());
    }

    Ast.Path path() {
        Token first = peek();
        if (!first.is(TokenType.IDENT) || RESERVED.contains(first.text().toUpperCase(Locale.ROOT))) {
            throw unexpected("a property path");
        }
        next();
        List<String> segments = new ArrayList<>();
        segments.add(first.text());
        while (accept(TokenType.DOT)) {
            Token s = peek();
            if (!s.is(TokenType.IDENT) && !s.is(TokenType.ESCAPED)) {
                throw unexpected("a property name after '.'");
            }
            next();
            segments.add(s.text());
        }
        return new Ast.Path(List.copyOf(segments), first.position());
    }

    private List<JsonNode> arrayLiteral() {
        expect(TokenType.LBRACKET, "'[' starting an array literal");
        List<JsonNode> values = new ArrayList<>();
        if (accept(TokenType.RBRACKET)) {
            return values;
        }
        do {
            values.add(arrayElement());
        } while (accept(TokenType.COMMA));
        expect(TokenType.RBRACKET, "',' or ']'");
        return values;
    }

    private JsonNode arrayElement() {
        Token t = peek();
        boolean minus = false;
        if (t.is(TokenType.MINUS)) {
            minus = true;
            next();
            t = peek();
        }
        if (t.is(TokenType.NUMBER)) {
            next();
            return minus ? Literals.negate(Literals.number(t)) : Literals.number(t);
        }
        if (!minus) {
            if (t.is(TokenType.STRING)) {
                next();
                return F.textNode(t.text());
            }
            if (t.isKeyword("true") || t.isKeyword("false")) {
                next();
                return F.booleanNode(t.isKeyword("true"));
            }
            if (t.isKeyword("null")) {
                next();
                return F.nullNode();
            }
            if (t.is(TokenType.LBRACKET)) {
                return F.arrayNode().addAll(arrayLiteral());
            }
        }
        throw unexpected(minus ? "a number after '-'" : "a literal (string, number, true, false, null) in the array");
    }
}
