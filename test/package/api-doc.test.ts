/**
 * docs/api.md is the reference of the public surface: for each entry, the names its tables list are exactly the
 * names the entry exports (values and types, read by the TypeScript compiler from the entry's source), so the
 * reference cannot miss an export nor list one that is gone; and the README shows the command's real help.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../support/built-cli.js'

const entries: Readonly<Record<string, string>> = {
  'consumer-auth': 'composition/index.ts',
  'consumer-auth/verify': 'adapters/embed/verify.ts',
  'consumer-auth/core': 'core/index.ts',
  'consumer-auth/http': 'adapters/http/index.ts',
}

const program = ts.createProgram(Object.values(entries).map((f) => join(ROOT, f)), {
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true,
})
const checker = program.getTypeChecker()

const exportsOf = (file: string): string[] => {
  const source = program.getSourceFile(join(ROOT, file))!
  return checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((s) => s.name).sort()
}

/** The names in the first column of the export tables under `## \`entry\``. */
const documented = (doc: string, entry: string): string[] => {
  const start = doc.indexOf(`## \`${entry}\`\n`)
  if (start < 0) return []
  const end = doc.indexOf('\n## ', start + 1)
  const section = doc.slice(start, end < 0 ? undefined : end)
  const names = section.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...l.split('|')[1]!.matchAll(/`([A-Za-z0-9_$]+)`/g)].map((m) => m[1]!))
  return [...new Set(names)].sort()
}

describe('docs/api.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8')
  for (const [entry, file] of Object.entries(entries)) {
    it(`lists exactly the exports of ${entry}`, () => {
      expect(documented(doc, entry)).toEqual(exportsOf(file))
    })
  }
})

describe('README.md', () => {
  it("shows the command's help as the command prints it", async () => {
    const { main } = await import('../../cli/main.js')
    let help = ''
    const code = await main(['--help'], { stdout: { write: (s: string) => void (help += s) }, stderr: { write: () => undefined }, env: {} })
    expect(code).toBe(0)
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const start = readme.indexOf('```text\nUsage: consumer-auth') + '```text\n'.length
    expect(readme.slice(start, readme.indexOf('```', start)).trim()).toBe(help.trim())
  })
})
