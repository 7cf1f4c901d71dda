/**
 * PLACEHOLDER (wt-infra): the findings lake's normalizer Lambda entry, so that the stack can
 * bundle it until the handler helper's entry is merged; the lead takes theirs. It acknowledges
 * every message of the batch without reading it.
 */
export const handler = async () => ({ batchItemFailures: [] });
