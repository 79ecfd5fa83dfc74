import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tokenizer } from '../../lib/model/tokenizer.ts';
import { list } from '../../lib/tasks/registry.ts';
import { buildTrace, layoutTrace, TRACE_KINDS, type TraceLayout } from '../../lib/tasks/traces.ts';
import type { Example, Task } from '../../lib/tasks/types.ts';
import { dotWalk } from './fixture-task.ts';

const tasks: Task[] = [dotWalk, ...list()];
const tokenizer = Tokenizer.fromTasks(tasks);
const { special } = tokenizer;
const IMAGE_TOKENS = 5;
const K = 3;

function count(ids: ArrayLike<number>, id: number): number {
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i] === id) n++;
  return n;
}

function layout(example: Example, kind: (typeof TRACE_KINDS)[number]): TraceLayout {
  return layoutTrace(buildTrace(example, tokenizer, kind, { latentSlots: K }), tokenizer, { imageTokens: IMAGE_TOKENS });
}

test('exact layout of each kind on the fixture task', () => {
  const example = dotWalk.generate(5, 4); // moves: right left right
  const question = Array.from(tokenizer.encode(example.question));
  const promptIds = [special['<bos>'], ...question, special['<img>'], ...Array(IMAGE_TOKENS).fill(special['<image>']), special['</img>']];
  const answerIds = [special['<answer>'], ...tokenizer.encode(example.answer), special['<eos>']];
  const stepIds = (i: number) => [special['<step>'], ...tokenizer.encode(example.steps[i].text)];
  const sketch = [special['<latent>'], ...Array(K).fill(special['<latent_slot>']), special['</latent>']];

  const direct = layout(example, 'direct');
  assert.equal(Array.from(direct.tokenIds), [...promptIds, ...answerIds]);
  assert.equal(Array.from(direct.supervised), [...promptIds.map(() => 0), ...answerIds.map(() => 1)]);
  assert.is(direct.promptLength, promptIds.length);
  assert.is(direct.answerPosition, promptIds.length);
  assert.equal(direct.images.map((s) => [s.start, s.length]), [[question.length + 2, IMAGE_TOKENS]]);
  assert.is(direct.images[0].image, example.image);

  const text = layout(example, 'text');
  const textChain = example.steps.flatMap((_, i) => [...stepIds(i), ...tokenizer.encode(example.stepDescriptions[i])]);
  assert.equal(Array.from(text.tokenIds), [...promptIds, ...textChain, ...answerIds]);
  assert.is(text.supervised.indexOf(1), promptIds.length);
  assert.is(count(text.supervised, 1), textChain.length + answerIds.length);

  const mixed = layout(example, 'modal-mixed');
  const mixedChain = example.steps.flatMap((_, i) => [...stepIds(i), ...sketch]);
  assert.equal(Array.from(mixed.tokenIds), [...promptIds, ...mixedChain, ...answerIds]);
  // every chain position is supervised except the slots themselves
  assert.is(count(mixed.supervised, 1), mixedChain.length + answerIds.length - K * example.steps.length);
  for (const position of mixed.latentSlotPositions) assert.is(mixed.supervised[position], 0);
  assert.equal(mixed.latents.map((s) => s.image), example.steps.map((s) => s.image));
});

for (const task of tasks) {
  test(`${task.id}: layouts are consistent for every kind and level`, () => {
    for (const level of [...task.levels.train, ...task.levels.ood]) {
      const example = task.generate(11 + level, level);
      const steps = example.steps.length;
      for (const kind of TRACE_KINDS) {
        const trace = buildTrace(example, tokenizer, kind, { latentSlots: K });
        const l = layoutTrace(trace, tokenizer, { imageTokens: IMAGE_TOKENS });
        const ids = l.tokenIds;
        const where = `${task.id} level ${level} ${kind}`;
        assert.is(ids.length, l.length, where);
        assert.is(l.supervised.length, l.length, where);
        assert.is(ids[0], special['<bos>'], where);
        assert.is(ids[l.length - 1], special['<eos>'], where);
        assert.is(count(ids, special['<eos>']), 1, where);
        assert.is(count(ids, special['<answer>']), 1, where);
        assert.is(ids[l.answerPosition], special['<answer>'], where);
        assert.is(l.supervised[l.answerPosition], 1, where);
        // the prompt is unsupervised and ends with the image; everything after it is the chain
        assert.is(ids[l.promptLength - 1], special['</img>'], where);
        for (let p = 0; p < l.promptLength; p++) assert.is(l.supervised[p], 0, where);
        assert.is(l.images.length, 1, where);
        assert.is(count(ids, special['<image>']), IMAGE_TOKENS, where);
        for (let p = l.images[0].start; p < l.images[0].start + IMAGE_TOKENS; p++) assert.is(ids[p], special['<image>'], where);
        assert.is(count(ids, special['<step>']), kind === 'direct' ? 0 : steps, where);
        // decoding the answer span gives back the (normalised) gold answer, which verifies
        const answerText = tokenizer.decode(ids.subarray(l.answerPosition + 1, l.length - 1));
        assert.ok(example.verify(answerText), `${where}: decoded answer "${answerText}" does not verify`);

        const latentTokens = [special['<latent>'], special['</latent>'], special['<latent_slot>']];
        if (kind === 'modal-mixed') {
          assert.is(l.latents.length, steps, where);
          assert.ok(l.latents.every((span) => span.length === K), `${where}: exactly K slots per step`);
          assert.is(count(ids, special['<latent>']), steps, where);
          assert.is(count(ids, special['</latent>']), steps, where);
          assert.is(l.latentSlotPositions.length, K * steps, where);
          for (const span of l.latents) {
            assert.is(ids[span.start - 1], special['<latent>'], where);
            assert.is(ids[span.start + K], special['</latent>'], where);
            for (let j = 0; j < K; j++) assert.is(ids[span.start + j], special['<latent_slot>'], where);
          }
          const supervisedSlots = Array.from(l.latentSlotPositions).filter((p) => l.supervised[p] === 1);
          assert.equal(supervisedSlots, [], where);
        } else {
          for (const id of latentTokens) assert.is(count(ids, id), 0, `${where}: no latent tokens`);
          assert.is(l.latents.length, 0, where);
          assert.is(l.latentSlotPositions.length, 0, where);
        }
      }
    }
  });
}

test('bad options and unknown words are clear errors', () => {
  const example = dotWalk.generate(1, 3);
  assert.throws(() => buildTrace(example, tokenizer, 'modal-mixed', { latentSlots: 0 }), /latentSlots must be a positive integer/);
  assert.throws(() => buildTrace(example, tokenizer, 'pictures' as never), /unknown trace kind "pictures"/);
  assert.throws(() => layoutTrace(buildTrace(example, tokenizer, 'direct'), tokenizer, { imageTokens: 0 }), /imageTokens/);
  const odd: Example = { ...example, verify: example.verify, answer: 'banana' };
  assert.throws(() => buildTrace(odd, tokenizer, 'direct'), /dot-walk seed 1 level 3, answer: .*unknown word "banana"/);
});

test.run();
