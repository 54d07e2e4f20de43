/**
 * @module duplicate-names
 * Finds a name given twice in one object of a JSON text. JSON.parse keeps the last of them silently, while a gateway
 * or WAF in front of the service may keep the first: the two would judge different requests. So a body with a
 * duplicate name is refused (docs/decisions.md).
 *
 * One pass over a text JSON.parse has already accepted, so it only tracks structure: which object is open, which
 * names it has seen; strings are skipped with indexOf, and a name is decoded (JSON.parse of its literal) only when it
 * holds an escape, so `"un\u0069t"` and `"unit"` are one name. An object keeps its names in a short list, or a Set
 * once it has many (so 4000 names in one object stay linear); arrays keep nothing.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c

/** The index of the quote that closes the string opening at `start` (a quote preceded by an even run of backslashes). */
const closingQuote = (text: string, start: number): number => {
  let end = text.indexOf('"', start + 1)
  for (;;) {
    let backslashes = 0
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return end
    end = text.indexOf('"', end + 1)
  }
}

/** Up to this many names an object's names are searched in a list (cheaper than a Set); past it, in a Set. */
const LIST_NAMES = 8

/** The names seen in one open object. */
class ObjectNames {
  private list: string[] = []
  private set: Set<string> | undefined
  /** Adds the name; false if the object already had it. */
  add(name: string): boolean {
    if (this.set !== undefined) return this.set.size < this.set.add(name).size
    if (this.list.includes(name)) return false
    this.list.push(name)
    if (this.list.length > LIST_NAMES) this.set = new Set(this.list)
    return true
  }
}

/**
 * The first duplicated name of a valid JSON text, as a path of the object names leading to it (`a.b`, `[]` for an
 * array element: `list[].id`), or undefined when every object's names are distinct.
 */
export const firstDuplicateName = (text: string): string | undefined => {
  // Per open container: its names seen (undefined for an array), and the step of the path that leads to it.
  const open: Array<ObjectNames | undefined> = []
  const steps: string[] = []
  let expectingName = false
  let lastName = ''
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const end = closingQuote(text, i)
      if (expectingName) {
        const raw = text.slice(i + 1, end)
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw
        if (!open[open.length - 1]!.add(name)) return pathOf(steps, name)
        lastName = name
        expectingName = false
      }
      i = end
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      steps.push(open.length === 0 ? '' : open[open.length - 1] === undefined ? '[]' : lastName)
      open.push(c === OPEN_OBJECT ? new ObjectNames() : undefined)
      expectingName = c === OPEN_OBJECT
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop()
      steps.pop()
    } else if (c === COMMA) {
      expectingName = open[open.length - 1] !== undefined
    }
  }
  return undefined
}

/** `a.b[].c` from the steps ['', 'a', 'b', '[]'] and the name 'c'. */
const pathOf = (steps: ReadonlyArray<string>, name: string): string => {
  let path = ''
  for (const step of [...steps.slice(1), name]) path = step === '[]' ? `${path}[]` : path === '' ? step : `${path}.${step}`
  return path
}
