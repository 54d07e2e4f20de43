/**
 * docs/behaviour.md holds the validation matrix and the error catalogue exactly as the core's rules make them
 * (composition/behaviour-doc.ts runs resolveCredentials over every combination); `npm run docs` rewrites them.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { matrixTable, renderBehaviourDoc } from '../../composition/behaviour-doc.js'

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'behaviour.md')

describe('docs/behaviour.md', () => {
  it('holds the tables the rules generate (run `npm run docs` after changing core/credentials.ts or core/errors.ts)', () => {
    const doc = readFileSync(DOC, 'utf8')
    expect(doc).toBe(renderBehaviourDoc(doc))
  })
  it("the matrix shows the documented example's shape as an authentication code in both releases", () => {
    expect(matrixTable()).toContain('| ✓ | `authentication_code` |  |  |  | **authentication code** | **authentication code** |')
  })
})
