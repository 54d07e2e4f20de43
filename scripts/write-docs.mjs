#!/usr/bin/env node
// Writes the generated tables of docs/behaviour.md (the validation matrix from core/credentials.ts, the error
// catalogue from core/errors.ts) between their markers, from the built code: `npm run docs` builds first.
// test/ops/behaviour-doc.test.ts fails when the file and the rules disagree.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const { renderBehaviourDoc } = await import(new URL('../dist/composition/behaviour-doc.js', import.meta.url).href)
const path = `${root}docs/behaviour.md`
const before = readFileSync(path, 'utf8')
const after = renderBehaviourDoc(before)
if (after !== before) writeFileSync(path, after)
console.log(after === before ? 'docs/behaviour.md is current' : 'docs/behaviour.md: tables rewritten')
