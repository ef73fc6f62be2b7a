/** Webhook throughput (section 3): being built. */
export async function benchThroughput(options: { deliveries: number }): Promise<{ markdown: string; result: unknown }> {
  return { markdown: `## 3. Webhook throughput\n\nPending: ${options.deliveries} deliveries against the running server are not measured yet.`, result: null };
}
