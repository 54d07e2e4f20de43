/**
 * @module errors
 * The error catalogue (docs/behaviour.md, the errors): every failure the service can answer with, in one table.
 * Names, areas and HTTP statuses never change once released; clients match on the code.
 */

export const errorCatalogue = {
  MALFORMEDREQUEST: { area: 'VALIDATION', status: 400, message: 'The request is malformed' },
  MISSINGPARAMETER: { area: 'VALIDATION', status: 400, message: 'A mandatory parameter is missing' },
  INVALIDPARAMETER: { area: 'VALIDATION', status: 400, message: 'A parameter has an invalid value' },
  UNKNOWNPARAMETER: { area: 'VALIDATION', status: 400, message: 'A parameter is not known to this method' },
  CONFLICTINGPARAMETERS: { area: 'VALIDATION', status: 400, message: 'Parameters were given that cannot be given together' },
  PARAMETERNOTAVAILABLE: { area: 'VALIDATION', status: 400, message: 'A parameter is not available in this release' },
  INVALIDAPPLICATIONKEY: { area: 'AUTHENTICATION', status: 401, message: 'The application key is not valid' },
  INVALIDACCESSTOKEN: { area: 'AUTHENTICATION', status: 401, message: 'The access token is not valid' },
  INVALIDIDENTITYTOKEN: { area: 'AUTHENTICATION', status: 401, message: 'The identity token is not valid' },
  INVALIDORGANISATION: { area: 'AUTHENTICATION', status: 401, message: 'The organisation is not valid' },
  INVALIDTOKEN: { area: 'AUTHENTICATION', status: 401, message: 'The session token is not valid' },
  INVALIDUNIT: { area: 'AUTHENTICATION', status: 403, message: 'The unit is not available to this user' },
  TOOMANYATTEMPTS: { area: 'AUTHENTICATION', status: 429, message: 'Too many failed attempts; try again later' },
  METHODNOTAVAILABLE: { area: 'GENERAL', status: 404, message: 'The method is not available' },
  METHODNOTALLOWED: { area: 'GENERAL', status: 405, message: 'The HTTP method is not allowed on this resource' },
  UNSUPPORTEDMEDIATYPE: { area: 'GENERAL', status: 415, message: 'The request body must be application/json' },
  PAYLOADTOOLARGE: { area: 'GENERAL', status: 413, message: 'The request body is too large' },
  SERVICEUNAVAILABLE: { area: 'GENERAL', status: 503, message: 'The service is temporarily unavailable' },
  INTERNALERROR: { area: 'GENERAL', status: 500, message: 'An internal error occurred' },
} as const satisfies Record<string, { area: 'VALIDATION' | 'AUTHENTICATION' | 'GENERAL'; status: number; message: string }>

export type ErrorName = keyof typeof errorCatalogue

export const errorNames = Object.keys(errorCatalogue) as ReadonlyArray<ErrorName>

/** A failure as a value: what went wrong, said to the client; never a secret in `message`. */
export interface AuthError {
  readonly name: ErrorName
  readonly message: string
  /** The parameters the failing rule names (wire names, e.g. `access_token_identifier.pass_code`). */
  readonly parameters: ReadonlyArray<string>
  /** Seconds until a locked-out subject may try again (TOOMANYATTEMPTS). */
  readonly retryAfterSeconds?: number
  /** What caused an unexpected failure (a store's exception), for the log only; never sent to the client. */
  readonly cause?: unknown
}

export const authError = (
  name: ErrorName,
  message: string = errorCatalogue[name].message,
  parameters: ReadonlyArray<string> = [],
): AuthError => ({ name, message, parameters })

/** `COM.CRM.EXCEPTION.<AREA>.<NAME>EXCEPTION`, the code clients match on. */
export const errorCode = (name: ErrorName): string =>
  `COM.CRM.EXCEPTION.${errorCatalogue[name].area}.${name}EXCEPTION`

export const httpStatusOf = (name: ErrorName): number => errorCatalogue[name].status

export const isAuthError = (u: unknown): u is AuthError =>
  typeof u === 'object' && u !== null && typeof (u as AuthError).name === 'string' &&
  Object.prototype.hasOwnProperty.call(errorCatalogue, (u as AuthError).name) &&
  typeof (u as AuthError).message === 'string' && Array.isArray((u as AuthError).parameters)
