/**
 * Configuration (SPEC 10): every setting decoded at start-up, a bad value named, and the documentation table generated
 * from the same `settings` the decoder uses. The CLI's exit code 2 is checked in cli.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { settingsTable, TABLE_END, TABLE_START } from '../../composition/config-doc.js'
import { decodeConfig, settings } from '../../composition/config.js'

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'configuration.md')

const failure = (env: NodeJS.ProcessEnv, flags: Record<string, string> = {}): string => {
  const r = decodeConfig(env, flags)
  if (E.isRight(r)) throw new Error(`expected a failure for ${JSON.stringify({ env, flags })}`)
  return r.left
}

describe('decodeConfig', () => {
  it('names PORT, CRM_RELEASE and DATABASE_URL (variable and flag) with the rule they broke', () => {
    const port = failure({ PORT: 'abc' })
    expect(port).toContain('PORT')
    expect(port).toContain('--port')
    expect(port).toContain('"abc"')
    expect(port).toMatch(/whole number from 0 to 65535/)
    expect(failure({ PORT: '70000' })).toContain('PORT')

    const release = failure({ CRM_RELEASE: 'R16' })
    expect(release).toContain('CRM_RELEASE')
    expect(release).toContain('--release')
    expect(release).toMatch(/R<major>\.<minor>\.<patch>/)

    const db = failure({ DATABASE_URL: 'mysql://localhost/x' })
    expect(db).toContain('DATABASE_URL')
    expect(db).toContain('--db')
    expect(db).toMatch(/sqlite:PATH or a postgres:\/\/ URL/)
    expect(failure({ DATABASE_URL: 'sqlite:' })).toContain('DATABASE_URL')
  })

  it('says when the bad value came from a flag, and flags win over the environment', () => {
    expect(failure({ PORT: '3000' }, { port: 'abc' })).toMatch(/^Invalid --port \(PORT, --port\)/)
    expect(failure({ PORT: 'abc' })).toMatch(/^Invalid PORT \(PORT, --port\)/)
    const ok = decodeConfig({ PORT: 'abc' }, { port: '8080' })
    expect(E.isRight(ok) && ok.right.port).toBe(8080)
  })

  it('names every setting when its value is bad', () => {
    const bad: Record<string, string> = {
      Text: '   ', Boolean: 'maybe', Release: 'sixteen', DatabaseUrl: 'ftp://x', BasePath: 'no-slash/',
    }
    for (const s of Object.values(settings)) {
      const value = s.codec.name.startsWith('Integer') ? '-1' : bad[s.codec.name] ?? 'not-one-of-them'
      const message = failure({ [s.env]: value })
      expect(message, s.env).toContain(s.env)
      expect(message, s.env).toContain(`--${s.flag}`)
    }
  })

  it('decodes the defaults into a complete configuration', () => {
    const r = decodeConfig({})
    expect(E.isRight(r)).toBe(true)
    if (E.isLeft(r)) return
    expect(r.right).toMatchObject({ port: 3000, basePath: '/crmapi/rest/v2', claimTimes: 'number', httpStatus: 'standard', demo: true, production: false })
    expect(r.right.db).toEqual({ engine: 'sqlite', path: './data/consumer-auth.db', url: 'sqlite:./data/consumer-auth.db' })
  })
})

const README = join(import.meta.dirname, '..', '..', 'README.md')

describe.each([['docs/configuration.md', DOC], ['README.md', README]])('%s', (_name, DOC) => {
  it('holds exactly the table generated from settings (UPDATE_DOCS=1 rewrites it)', () => {
    const text = readFileSync(DOC, 'utf8')
    const start = text.indexOf(TABLE_START)
    const end = text.indexOf(TABLE_END)
    expect(start, 'the start marker').toBeGreaterThanOrEqual(0)
    expect(end, 'the end marker').toBeGreaterThan(start)
    const current = text.slice(start + TABLE_START.length, end).trim()
    const wanted = settingsTable()
    if (current !== wanted && process.env['UPDATE_DOCS'] === '1') {
      writeFileSync(DOC, `${text.slice(0, start + TABLE_START.length)}\n${wanted}\n${text.slice(end)}`)
      return
    }
    expect(current).toBe(wanted)
  })

  it('documents every environment variable and flag, and none that does not exist', () => {
    const text = readFileSync(DOC, 'utf8')
    for (const s of Object.values(settings)) {
      expect(text).toContain(`\`${s.env}\``)
      expect(text).toContain(`\`--${s.flag}\``)
    }
    const table = text.slice(text.indexOf(TABLE_START), text.indexOf(TABLE_END))
    const documented = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1])
    expect(documented.sort()).toEqual(Object.values(settings).map((s) => s.env).sort())
  })
})

describe('messages about bad values', () => {
  it('never show the password of a database URL or the secrets value', () => {
    const bad = decodeConfig({ DATABASE_URL: 'postgres://admin:s3cr3t-pw@db.example:99999/x' })
    expect(E.isLeft(bad) && bad.left).toContain('DATABASE_URL')
    expect(E.isLeft(bad) && bad.left).not.toContain('s3cr3t-pw')
    const secrets = decodeConfig({ CONSUMER_AUTH_SECRETS: '   ' })
    expect(E.isLeft(secrets) && secrets.left).toContain('CONSUMER_AUTH_SECRETS')
  })
})
