/**
 * The VSI `?app_id=<regex>` filter. The contract (compat-notes §1 "VSI") specifies a Go RE2
 * pattern matched unanchored against an event's `app_id` (`""` when untagged). JavaScript's
 * `RegExp` is a different dialect, so the pattern is translated where RE2 has a JS equivalent
 * and rejected where RE2 itself would reject it or where JS would silently mean something else:
 *
 * - rejected: lookaround `(?=` `(?!` `(?<=` `(?<!`, backreferences `\1`…`\9` `\k<…>` `(?P=…)`,
 *   the ungreedy flag `U`, repeat counts above 1000 (RE2's limit), negated POSIX classes inside a
 *   bracket expression (no JS equivalent without the `v` flag);
 * - translated: a leading flag group `(?i)`/`(?s)`/`(?m)` becomes JS flags; a flag group inside
 *   the pattern becomes a scoped modifier group running to the end of the enclosing group and
 *   reopened after each `|` (RE2 keeps flags across alternation); `(?P<name>`→`(?<name>`;
 *   `\A`/`\z`; `\pL`→`\p{L}`; `\x{…}`→`\u{…}`; `\Q…\E`; `[[:alpha:]]`-style classes; the
 *   literal `{`, `}` and `]` RE2 accepts where JS's `u` mode does not.
 *
 * Everything else is compiled with the `u` flag, whose stricter escapes and code-point `.` are
 * closer to RE2 than legacy JS syntax; whatever JS still refuses is reported as invalid.
 */
import { BadRequest } from "../errors.ts";

/** RE2's maximum `{n,m}` repeat count. */
const MAX_REPEAT = 1000;

/** ASCII POSIX classes RE2 accepts inside brackets, as JS class bodies. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** A pattern the filter refuses; `detail` follows Go's `error parsing regexp: …` wording. */
class PatternError extends Error {}

function reject(what: string, fragment: string): never {
  throw new PatternError(`${what}: \`${fragment}\``);
}

/** The JS source and flags equivalent to an RE2 pattern. */
export interface TranslatedPattern {
  readonly source: string;
  readonly flags: string;
}

/** One open group: how many scoped flag groups were opened inside it, and their openers. */
interface Level {
  openers: string[];
}

const FLAG_GROUP = /^\(\?([A-Za-z]*)(?:-([A-Za-z]*))?([:)])/;
const REPEAT = /^\{(\d+)(?:(,)(\d*))?\}/;
const POSIX = /^\[:(\^?)([a-z]+):\]/;

/** Validates RE2 flag letters; returns the JS modifier text (`i`, `s-m`, …) or "" when none. */
function flagModifier(set: string, clear: string | undefined, fragment: string): string {
  for (const f of set + (clear ?? "")) {
    if (f !== "i" && f !== "m" && f !== "s") reject("invalid or unsupported Perl syntax", fragment);
  }
  if (clear === "" || (set === "" && clear === undefined)) {
    reject("missing argument to flag group", fragment);
  }
  return clear ? `${set}-${clear}` : set;
}

function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/**
 * Translates an RE2 pattern to JS. Throws PatternError for RE2-incompatible constructs; a pattern
 * JS cannot compile is left for `new RegExp` to reject.
 */
export function translateRe2(pattern: string): TranslatedPattern {
  const flags = new Set<string>(["u"]);
  let i = 0;
  // Leading flag groups apply to the whole pattern: they become JS flags.
  for (let m = FLAG_GROUP.exec(pattern); m && m[3] === ")"; m = FLAG_GROUP.exec(pattern.slice(i))) {
    const mod = flagModifier(m[1], m[2], m[0]);
    for (const f of mod.split("-")[0]) flags.add(f);
    i += m[0].length;
  }

  let out = "";
  let inClass = false;
  const stack: Level[] = [{ openers: [] }];
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n === undefined) reject("trailing backslash at end of expression", "\\");
      if (n >= "1" && n <= "9") reject("invalid escape sequence", `\\${n}`);
      if (n === "k" && pattern[i + 2] === "<") reject("invalid escape sequence", "\\k<");
      if (n === "Q" && !inClass) {
        const end = pattern.indexOf("\\E", i + 2);
        const literal = pattern.slice(i + 2, end < 0 ? pattern.length : end);
        out += escapeLiteral(literal);
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      if ((n === "p" || n === "P") && pattern[i + 2] !== "{" && pattern[i + 2] !== undefined) {
        out += `\\${n}{${pattern[i + 2]}}`;
        i += 3;
        continue;
      }
      if (n === "x" && pattern[i + 2] === "{") {
        const end = pattern.indexOf("}", i + 3);
        if (end < 0) reject("invalid escape sequence", pattern.slice(i));
        out += `\\u{${pattern.slice(i + 3, end)}}`;
        i = end + 1;
        continue;
      }
      if (!inClass && n === "A") out += "(?<![\\s\\S])";
      else if (!inClass && n === "z") out += "(?![\\s\\S])";
      else if (n === "a") out += "\\x07";
      else out += c + n;
      i += 2;
      continue;
    }

    if (inClass) {
      if (c === "[" && pattern[i + 1] === ":") {
        const m = POSIX.exec(pattern.slice(i));
        if (m) {
          const body = POSIX_CLASSES[m[2]];
          if (body === undefined) reject("invalid character class range", m[0]);
          if (m[1]) reject("invalid or unsupported Perl syntax", m[0]);
          out += body;
          i += m[0].length;
          continue;
        }
      }
      if (c === "]") inClass = false;
      out += c;
      i++;
      continue;
    }

    switch (c) {
      case "[": {
        inClass = true;
        out += "[";
        i++;
        if (pattern[i] === "^") {
          out += "^";
          i++;
        }
        // RE2: a `]` right after the opening bracket is a literal member.
        if (pattern[i] === "]") {
          out += "\\]";
          i++;
        }
        continue;
      }
      case "(": {
        if (pattern[i + 1] !== "?") {
          stack.push({ openers: [] });
          out += "(";
          i++;
          continue;
        }
        const rest = pattern.slice(i + 2);
        if (rest.startsWith("=") || rest.startsWith("!")) {
          reject("invalid or unsupported Perl syntax", `(?${rest[0]}`);
        }
        if (rest.startsWith("<=") || rest.startsWith("<!")) {
          reject("invalid or unsupported Perl syntax", `(?${rest.slice(0, 2)}`);
        }
        if (rest.startsWith("P=") || rest.startsWith("P>")) {
          reject("invalid or unsupported Perl syntax", `(?${rest.slice(0, 2)}`);
        }
        if (rest.startsWith("P<")) {
          stack.push({ openers: [] });
          out += "(?<";
          i += 4;
          continue;
        }
        const m = FLAG_GROUP.exec(pattern.slice(i));
        if (m && (m[1] !== "" || m[2] !== undefined)) {
          const mod = flagModifier(m[1], m[2], m[0]);
          const opener = `(?${mod}:`;
          if (m[3] === ":") {
            stack.push({ openers: [] });
          } else {
            // `(?i)` mid-group: scoped to the rest of the enclosing group.
            stack[stack.length - 1].openers.push(opener);
          }
          out += opener;
          i += m[0].length;
          continue;
        }
        stack.push({ openers: [] });
        out += "(";
        i++;
        continue;
      }
      case ")": {
        if (stack.length > 1) out += ")".repeat(stack.pop()!.openers.length);
        out += ")";
        i++;
        continue;
      }
      case "|": {
        const openers = stack[stack.length - 1].openers;
        out += ")".repeat(openers.length) + "|" + openers.join("");
        i++;
        continue;
      }
      case "{": {
        const m = REPEAT.exec(pattern.slice(i));
        if (!m) {
          out += "\\{"; // RE2 reads a `{` that does not start a repeat as a literal
          i++;
          continue;
        }
        const min = Number(m[1]);
        const max = m[3] ? Number(m[3]) : min;
        if (min > MAX_REPEAT || max > MAX_REPEAT) reject("invalid repeat count", m[0]);
        out += m[0];
        i += m[0].length;
        continue;
      }
      case "}":
      case "]":
        out += "\\" + c;
        i++;
        continue;
      default:
        out += c;
        i++;
    }
  }
  for (let d = stack.length - 1; d >= 0; d--) out += ")".repeat(stack[d].openers.length);
  return { source: out, flags: [...flags].sort().join("") };
}

/**
 * Compiles the `app_id` query parameter into an unanchored filter; an empty or absent pattern
 * means "no filter" (null). Throws {@link BadRequest} `invalid app_id regex: …` otherwise.
 */
export function compileAppIdFilter(pattern: string | null | undefined): RegExp | null {
  if (!pattern) return null;
  try {
    const { source, flags } = translateRe2(pattern);
    return new RegExp(source, flags);
  } catch (err) {
    if (err instanceof PatternError) {
      throw new BadRequest(`invalid app_id regex: error parsing regexp: ${err.message}`);
    }
    const reason = err instanceof Error ? err.message.replace(/^.*: /, "") : String(err);
    throw new BadRequest(
      `invalid app_id regex: error parsing regexp: ${reason.toLowerCase()}: \`${pattern}\``,
    );
  }
}
