/**
 * `input` with each field named in `optional` that is absent (undefined) set to null: an insert then writes
 * "none" explicitly, the same for every caller, instead of leaving the column to its default.
 */
export function withNulls<T extends object, K extends keyof T>(input: T, optional: readonly K[]): Omit<T, K> & { [P in K]: Exclude<T[P], undefined> | null } {
  const out: Record<PropertyKey, unknown> = { ...(input as Record<PropertyKey, unknown>) };
  for (const key of optional) out[key] = input[key] ?? null;
  return out as Omit<T, K> & { [P in K]: Exclude<T[P], undefined> | null };
}
