/**
 * @module json-file
 * Reading a JSON file an operator passes in (an import document, a JWKS) without ever quoting it: such files hold
 * keys, codes and pass codes in clear, and JSON.parse's messages quote the text around a syntax error. A syntax
 * error is told by line and column only; a document nested deeper than MAX_JSON_DEPTH is refused by the path of the
 * first place too deep (the document's own shape needs a handful of levels; the checks after parsing recurse).
 */
import { formatPath } from './import-document.js'

const MAX_JSON_DEPTH = 32

const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const LITERAL = /true|false|null/y
const WHITESPACE = /[ \t\n\r]*/y

/**
 * The offset of the first character at which `text` stops being JSON (RFC 8259; a string that is not one is
 * reported at its opening quote), or undefined when it is JSON. Iterative: any depth.
 */
export const firstJsonError = (text: string): number | undefined => {
  let at = 0
  const skip = () => {
    WHITESPACE.lastIndex = at
    WHITESPACE.test(text)
    at = WHITESPACE.lastIndex
  }
  const token = (pattern: RegExp): boolean => {
    pattern.lastIndex = at
    if (!pattern.test(text)) return false
    at = pattern.lastIndex
    return true
  }
  /** The containers open around the current position: '{' or '['. */
  const open: string[] = []
  // Expecting a value (else: what may follow one).
  let value = true
  for (;;) {
    skip()
    const c = text[at]
    if (value) {
      if (c === '{' || c === '[') {
        open.push(c)
        at++
        skip()
        if (text[at] === (c === '{' ? '}' : ']')) {
          open.pop()
          at++
          value = false
          continue
        }
        if (c === '{' && !(token(STRING) && (skip(), text[at] === ':'))) return at
        if (c === '{') at++
        continue
      }
      if (!(token(STRING) || token(NUMBER) || token(LITERAL))) return at
      value = false
      continue
    }
    const top = open.at(-1)
    if (top === undefined) return at === text.length ? undefined : at
    if (c === (top === '{' ? '}' : ']')) {
      open.pop()
      at++
      continue
    }
    if (c !== ',') return at
    at++
    if (top === '{') {
      skip()
      if (!(token(STRING) && (skip(), text[at] === ':'))) return at
      at++
    }
    value = true
  }
}

/** 1-based line and column of an offset. */
const lineAndColumn = (text: string, offset: number): { line: number; column: number } => {
  const before = text.slice(0, offset)
  const lineStart = before.lastIndexOf('\n') + 1
  return { line: before.split('\n').length, column: offset - lineStart + 1 }
}

/** The path of the first value nested deeper than `max` levels, or undefined. Iterative, like the scanner. */
const tooDeep = (value: unknown, max: number = MAX_JSON_DEPTH): ReadonlyArray<string | number> | undefined => {
  const stack: Array<{ readonly value: unknown; readonly path: ReadonlyArray<string | number> }> = [{ value, path: [] }]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const v = next.value
    if (typeof v !== 'object' || v === null) continue
    if (next.path.length >= max) return next.path
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v)
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], path: [...next.path, entries[i]![0]] })
  }
  return undefined
}

export type JsonText = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string }

/** Parses a file's text (a leading byte-order mark allowed); a problem never quotes the text. */
export const parseJsonText = (raw: string): JsonText => {
  const text = raw.replace(/^\uFEFF/, '')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    const offset = firstJsonError(text)
    if (offset === undefined) return { ok: false, problem: 'is not JSON' }
    const { line, column } = lineAndColumn(text, offset)
    return { ok: false, problem: `is not JSON: syntax error at line ${line}, column ${column}` }
  }
  const deep = tooDeep(value)
  return deep === undefined ? { ok: true, value } : { ok: false, problem: `is refused: ${formatPath(deep)}: nested deeper than ${MAX_JSON_DEPTH} levels` }
}
