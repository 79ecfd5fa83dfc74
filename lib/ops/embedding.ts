// Embedding lookup: rows of a table picked by integer ids; the gradient sums into the rows.
import { record } from '../autograd.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';

/** table[ids]: i32 ids of any shape, f32 table [V, D] -> ids.shape + [D]. Ids outside [0, V)
 * are an error (ERR_ARG, naming the id and V). Repeated ids accumulate their gradients. */
export function embedding(ids: Tensor, table: Tensor): Tensor {
  const out = new Tensor(native.embedding(ids.handle, table.handle));
  const rows = table.shape[0];
  return record(out, 'embedding', [ids, table], [ids], (g, [savedIds]) => [null, new Tensor(native.embeddingBackward(savedIds.handle, g.handle, rows))]);
}
