/**
 * The building blocks of the API's shapes. Each is a TypeBox schema, so `Static<typeof X>` is its
 * TypeScript type; the JSON they stand for is what the routes declared before TypeBox (OpenAPI 3.0's
 * `nullable`, `enum` of strings), so the published OpenAPI document reads as it did.
 */
import { Type, type Static, type TProperties, type TSchema, type TUnsafe } from '@sinclair/typebox';

export const string = Type.String();
export const integer = Type.Integer();
export const number = Type.Number();
export const boolean = Type.Boolean();

/** The schema, or null (OpenAPI 3.0's `nullable: true`, which the API's Ajv reads too). */
export const nullable = <T extends TSchema>(schema: T): TUnsafe<Static<T> | null> => Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });
export const nullableString = nullable(string);

/** One of these strings (`{ type: 'string', enum: [...] }`). */
export const oneOf = <const V extends readonly string[]>(...values: V): TUnsafe<V[number]> => Type.Unsafe<V[number]>({ type: 'string', enum: values });

/** Any JSON object (a case's data, an event's payload, a plan). */
export const freeObject = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true });
/** An object of any keys whose values all have this schema. */
export const recordOf = <T extends TSchema>(values: T): TUnsafe<Record<string, Static<T>>> =>
  Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: values });

/** An object whose properties are all listed (the required ones are those not wrapped in `optional`). */
export const exact = <P extends TProperties>(properties: P) => Type.Object(properties, { additionalProperties: false });
/** An object with these properties; others may be added (cases and their history grow with the workflow). */
export const open = <P extends TProperties>(properties: P) => Type.Object(properties, { additionalProperties: true });
export const list = <T extends TSchema>(items: T) => Type.Array(items);
export const optional = <T extends TSchema>(schema: T) => Type.Optional(schema);

export type { Static };
