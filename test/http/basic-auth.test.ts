/** The one Basic-auth reader (SPEC 3.3): what each header yields. */
import { describe, expect, it } from 'vitest'
import { readBasicAuth } from '../../adapters/http/basic-auth.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_KEY } from '../support/example.js'

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')

describe('readBasicAuth', () => {
  it('reads the documented example header', () => {
    expect(readBasicAuth(EXAMPLE_AUTHORIZATION)).toEqual({ _tag: 'Key', key: EXAMPLE_KEY })
  })
  it('accepts key without a colon, and any case of the scheme', () => {
    expect(readBasicAuth(`basic ${b64('abc')}`)).toEqual({ _tag: 'Key', key: 'abc' })
  })
  it('absent header means no key', () => {
    expect(readBasicAuth(undefined)).toEqual({ _tag: 'NoKey' })
  })
  it.each([
    [`Basic ${b64('key:pw')}`, 'password'],
    [`Bearer ${b64('key:')}`, 'scheme'],
    ['Basic', 'base64 credentials'],
    ['Basic !!!!', 'base64'],
    ['Basic YWI', 'base64'], // missing padding: strict base64 only
    [`Basic ${Buffer.from([0xff, 0xfe, 0x3a]).toString('base64')}`, 'UTF-8'],
    [`Basic ${b64('ke\u0001y:')}`, 'control'],
    [`Basic ${'A'.repeat(4096)}`, 'too long'],
  ])('%s is malformed (%s)', (header, why) => {
    const r = readBasicAuth(header)
    expect(r._tag).toBe('MalformedAuthorization')
    expect(r._tag === 'MalformedAuthorization' && r.reason).toContain(why)
  })
  it('several headers are malformed', () => {
    expect(readBasicAuth([`Basic ${b64('a:')}`, `Basic ${b64('b:')}`])._tag).toBe('MalformedAuthorization')
  })
})
