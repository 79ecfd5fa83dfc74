// Batched generation (lib/infer/generate.ts) on a tiny random VLM whose LM head is biased so that
// rows enter latent mode at different steps: the KV cache changes nothing; a batch equals its rows
// run alone; every `<latent>` is followed by K slots and `</latent>`; the latent sources of the
// METHOD.md probe; log-probs equal a teacher-forced forward over the generated chain (latents
// fed back in place); bad input errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { vlmConfig } from '../../lib/model/config.ts';
import { DiffusionHead, RegressionHead } from '../../lib/model/heads.ts';
import { VLM, batchLayouts } from '../../lib/model/vlm.ts';
import { buildTrace, layoutTrace, promptTrace, type Segment, type Trace } from '../../lib/tasks/traces.ts';
import { answerText, generate, type GeneratedSequence } from '../../lib/infer/generate.ts';
import { settleTensors, throwsWith } from '../helpers.ts';

const { ops } = mm;
const K = 4;
const tokenizer = mm.Tokenizer.fromTasks(mm.tasks.list());
const config = vlmConfig('tiny', tokenizer, { image: { size: 32, patch: 4, channels: 3 } });
const dim = config.lm.dim;
const special = tokenizer.special;

mm.manualSeed(11);
const vlm = new VLM(config);
const regression = new RegressionHead({ latentDim: dim, condDim: dim, width: 32, depth: 2 });
const diffusion = new DiffusionHead({ latentDim: dim, condDim: dim, width: 32, depth: 1, prediction: 'x0' });
mm.noGrad(() => {
  // non-trivial heads (the diffusion head's output layers start at zero) and latent statistics
  for (const p of diffusion.parameters()) ops.sliceAssign(p, ops.scale(mm.Tensor.randn(p.shape), 0.05), 0, 0);
  vlm.latent_stats.fit(ops.addScalar(ops.scale(mm.Tensor.randn([64, dim]), 3), 1));
  // Make <latent> and <eos> likely at some steps and not others: large random rows of the LM head.
  const w = vlm.lm.lm_head.weight;
  ops.sliceAssign(w, ops.scale(mm.Tensor.randn([1, dim]), 0.3), 0, special['<latent>']);
  ops.sliceAssign(w, ops.scale(mm.Tensor.randn([1, dim]), 0.25), 0, special['<eos>']);
});

const examples = ['maze-final', 'rotation', 'count-transform'].map((id) => {
  const task = mm.tasks.get(id);
  return task.generate(3, task.levels.train[0], { size: 32 });
});
const prompts = examples.map((e) => promptTrace(buildTrace(e, tokenizer, 'modal-mixed', { latentSlots: K })));
/** The prompt followed by `<latent>`, so generation starts in latent mode. */
const withLatent = (prompt: Trace): Trace => ({ kind: prompt.kind, segments: [...prompt.segments, { type: 'text', ids: Int32Array.of(special['<latent>']), supervised: false }] });
const model = { vlm, head: diffusion, tokenizer, latentSlots: K };

function f32(t: mm.Tensor | null): Float32Array {
  return t ? (t.toArray() as Float32Array) : new Float32Array(0);
}
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
function assertSame(a: GeneratedSequence, b: GeneratedSequence, tol: number): void {
  assert.equal(Array.from(a.tokens), Array.from(b.tokens));
  const scale = Math.max(1, ...Array.from(f32(a.latents), Math.abs));
  assert.ok(maxAbsDiff(f32(a.latents), f32(b.latents)) <= tol * scale, `latents differ by ${maxAbsDiff(f32(a.latents), f32(b.latents))} (max abs ${scale})`);
  assert.ok(maxAbsDiff(a.logProbs, b.logProbs) <= tol * 10, `log-probs differ by ${maxAbsDiff(a.logProbs, b.logProbs)}`);
}
/** Every <latent> is followed by exactly K slots then </latent> (unless the budget ran out), and
 * slots appear nowhere else; latents has one row per slot. Returns the number of sketches. */
function checkStructure(seq: GeneratedSequence, startsInLatent = false): number {
  const ids = [...(startsInLatent ? [special['<latent>']] : []), ...seq.tokens];
  let sketches = 0;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === special['<latent>']) {
      sketches++;
      const rest = ids.slice(i + 1, i + 2 + K);
      const expected = [...new Array(K).fill(special['<latent_slot>']), special['</latent>']].slice(0, rest.length);
      assert.equal(rest, expected, `sketch at ${i}`);
      if (rest.length < K + 1) assert.is(seq.stop, 'length');
      i += rest.length;
    } else {
      assert.ok(ids[i] !== special['<latent_slot>'] && ids[i] !== special['</latent>'], `stray control token at ${i}`);
    }
  }
  const slots = seq.tokens.filter((id) => id === special['<latent_slot>']).length;
  assert.is(seq.latents?.shape[0] ?? 0, slots);
  seq.tokens.forEach((id, i) => assert.is(seq.chosen[i], id === special['<latent_slot>'] || (id === special['</latent>']) ? 0 : 1));
  return sketches;
}

test('sampled generation with the KV cache equals generation without it (tokens, latents, log-probs); rows switch modality at different steps', () => {
  const options = { maxNewTokens: 24, seed: 5, temperature: 1, latentSteps: 10 };
  const cached = generate(model, prompts, options);
  const uncached = generate(model, prompts, { ...options, useCache: false });
  cached.forEach((seq, b) => assertSame(seq, uncached[b], 1e-5));
  const sketches = cached.map((seq) => checkStructure(seq));
  assert.ok(sketches.reduce((a, b) => a + b) >= 2, `latent mode should trigger: ${sketches}`);
  // modality differs across rows at some step
  const slot = (seq: GeneratedSequence, t: number) => seq.tokens[t] === special['<latent_slot>'];
  const mixed = Array.from({ length: 24 }, (_, t) => t).some((t) => cached.some((s) => slot(s, t)) && cached.some((s) => t < s.tokens.length && !slot(s, t)));
  assert.ok(mixed, 'some step should have one row in latent mode and another emitting text');
  // a different seed gives a different generation (the seed is used)
  const other = generate(model, prompts, { ...options, seed: 6 });
  assert.ok(other.some((seq, b) => seq.text !== cached[b].text));
});

test('a batch of n prompts equals n runs of batch 1 (greedy tokens, regression-head latents), across prompt lengths', () => {
  const regressionModel = { ...model, head: regression };
  const lengths = prompts.map((p) => layoutTrace(p, tokenizer, { imageTokens: vlm.imageTokens }).length);
  assert.ok(new Set(lengths).size > 1, `prompts should differ in length (padding): ${lengths}`);
  const mixedPrompts = [prompts[0], withLatent(prompts[1]), prompts[2]];
  const batch = generate(regressionModel, mixedPrompts, { maxNewTokens: 20, greedy: true });
  mixedPrompts.forEach((prompt, b) => {
    const [alone] = generate(regressionModel, [prompt], { maxNewTokens: 20, greedy: true });
    assertSame(batch[b], alone, 1e-5);
    checkStructure(batch[b], b === 1);
  });
  assert.ok(batch[1].latents !== null && batch[1].tokens[K] === special['</latent>'], 'a prompt ending with <latent> starts with K slots');
});

test('log-probs equal log-softmax of a teacher-forced forward over the generated chain, with its latents in place', () => {
  const generated = generate(model, prompts, { maxNewTokens: 24, seed: 9, latentSteps: 5 });
  generated.forEach((seq, b) => {
    // the chain as a trace: text runs, and each run of slots as a latent segment (its image is unused)
    const segments: Segment[] = [...prompts[b].segments];
    let i = 0;
    while (i < seq.tokens.length) {
      let j = i;
      const isSlot = seq.tokens[i] === special['<latent_slot>'];
      while (j < seq.tokens.length && (seq.tokens[j] === special['<latent_slot>']) === isSlot) j++;
      segments.push(isSlot ? { type: 'latent', image: examples[b].image, k: j - i } : { type: 'text', ids: seq.tokens.slice(i, j), supervised: true });
      i = j;
    }
    mm.scope(() => {
      const layout = layoutTrace({ kind: 'modal-mixed', segments }, tokenizer, { imageTokens: vlm.imageTokens });
      const batch = batchLayouts([layout], { imageTokens: vlm.imageTokens });
      const { logits } = mm.noGrad(() => vlm.forward(batch, { latents: seq.latents ?? undefined }));
      const logp = f32(ops.logSoftmax(logits));
      const vocab = config.lm.vocab;
      const start = layout.length - seq.tokens.length;
      let checked = 0;
      seq.tokens.forEach((id, t) => {
        if (!seq.chosen[t]) return assert.is(seq.logProbs[t], 0);
        const expected = logp[(start + t - 1) * vocab + id];
        assert.ok(Math.abs(seq.logProbs[t] - expected) < 1e-4, `row ${b} token ${t}: ${seq.logProbs[t]} vs ${expected}`);
        checked++;
      });
      assert.ok(checked > 0);
    });
  });
});

test("latentSource: 'zeros' feeds zeros, 'noise' de-normalised standard normal draws, 'oracle' the gold latents in order (the last sketch repeated)", () => {
  const prompt = [withLatent(prompts[0])];
  const [zeros] = generate(model, prompt, { maxNewTokens: K + 2, greedy: true, latentSource: 'zeros' });
  assert.equal(Array.from(f32(zeros.latents)), new Array(K * dim).fill(0));
  assert.equal(Array.from(zeros.tokens.slice(0, K + 1)), [...new Array(K).fill(special['<latent_slot>']), special['</latent>']]);

  const [noise] = generate(model, prompt, { maxNewTokens: K + 1, greedy: true, latentSource: 'noise', seed: 3 });
  mm.manualSeed(3); // greedy draws nothing, so the stream holds exactly the K noise rows
  const expected = ops.concat(Array.from({ length: K }, () => vlm.latent_stats.denormalize(mm.Tensor.randn([1, dim]))), 0);
  assert.ok(maxAbsDiff(f32(noise.latents), f32(expected)) < 1e-6);

  // two gold sketches; a forced chain of three sketches repeats the last one
  const gold = mm.Tensor.randn([2 * K, dim]);
  const [oracle] = generate(model, prompt, { maxNewTokens: K + 2, greedy: true, latentSource: 'oracle', oracleLatents: [gold] });
  assert.equal(Array.from(f32(oracle.latents)), Array.from(f32(gold)).slice(0, K * dim));
  // the fed embeddings matter downstream: the first token after the sketch is scored differently
  assert.ok(oracle.tokens[K + 1] !== zeros.tokens[K + 1] || Math.abs(oracle.logProbs[K + 1] - zeros.logProbs[K + 1]) > 1e-4);
});

test("latentSource 'head': a slot's latent is the head's output for the hidden state before it, de-normalised", () => {
  const prompt = withLatent(prompts[1]);
  const [seq] = generate({ ...model, head: regression }, [prompt], { maxNewTokens: 1, greedy: true });
  mm.scope(() => {
    const layout = layoutTrace(prompt, tokenizer, { imageTokens: vlm.imageTokens });
    const { hidden } = mm.noGrad(() => vlm.forward(batchLayouts([layout], { imageTokens: vlm.imageTokens })));
    const cond = ops.reshape(ops.slice(hidden, 1, layout.length - 1, layout.length), [1, dim]);
    const expected = mm.noGrad(() => vlm.latent_stats.denormalize(regression.forward(cond)));
    assert.equal(seq.latents?.shape, [1, dim]);
    assert.ok(maxAbsDiff(f32(seq.latents), f32(expected)) < 1e-4, `${maxAbsDiff(f32(seq.latents), f32(expected))}`);
  });
});

test('oracle latents past the gold ones repeat the last gold sketch', () => {
  const gold = mm.Tensor.randn([K, dim]);
  // a second sketch comes from the biased LM head (asserted below)
  const [seq] = generate(model, [withLatent(prompts[2])], { maxNewTokens: 30, greedy: true, latentSource: 'oracle', oracleLatents: [gold] });
  const slots = seq.latents?.shape[0] ?? 0;
  assert.ok(slots > K, `the chain should hold a second sketch: ${seq.text}`);
  const g = f32(gold);
  const got = f32(seq.latents);
  for (let s = 0; s < slots; s++) assert.equal(Array.from(got.slice(s * dim, (s + 1) * dim)), Array.from(g.slice((s % K) * dim, (s % K + 1) * dim)));
});

test('promptTrace keeps the unsupervised head of a trace: the full layout\'s first promptLength tokens', () => {
  const full = layoutTrace(buildTrace(examples[0], tokenizer, 'modal-mixed', { latentSlots: K }), tokenizer, { imageTokens: vlm.imageTokens });
  const prompt = layoutTrace(prompts[0], tokenizer, { imageTokens: vlm.imageTokens });
  assert.is(prompt.length, full.promptLength);
  assert.equal(Array.from(prompt.tokenIds), Array.from(full.tokenIds.slice(0, full.promptLength)));
  assert.is(prompt.tokenIds[prompt.length - 1], special['</img>']);
});

test('generation frees everything but the returned latents at once, not by GC (cache and no cache)', async () => {
  for (const useCache of [true, false]) {
    const base = await settleTensors(() => mm.memory().cpu.tensors);
    const out = generate(model, prompts, { maxNewTokens: 12, seed: 2, latentSteps: 3, useCache });
    const owned = out.filter((seq) => seq.latents).length;
    assert.is(mm.memory().cpu.tensors, base + owned, `useCache ${useCache}`);
    for (const seq of out) seq.latents?.dispose();
  }
});

test('answerText: the words after the last <answer> up to <eos> or the end', () => {
  const ids = (text: string) => Array.from(tokenizer.encode(text));
  const [a, e] = [special['<answer>'], special['<eos>']];
  assert.is(answerText([...ids('left'), a, ...ids('up 3'), e, ...ids('down')], tokenizer), 'up 3');
  assert.is(answerText([a, ...ids('left'), a, ...ids('right')], tokenizer), 'right');
  assert.is(answerText(ids('left right'), tokenizer), '');
});

test('bad input gives clear errors', () => {
  const full = buildTrace(examples[0], tokenizer, 'modal-mixed', { latentSlots: K });
  throwsWith(() => generate(model, [], {}), RangeError, 'ERR_ARG', /no prompts/);
  throwsWith(() => generate(model, [full], {}), RangeError, 'ERR_ARG', /pass the prompt only \(promptTrace\)/);
  throwsWith(() => generate(model, prompts, { maxNewTokens: 0 }), RangeError, 'ERR_ARG', /maxNewTokens must be a positive integer/);
  throwsWith(() => generate(model, prompts, { latentSource: 'gold' as never }), RangeError, 'ERR_ARG', /latentSource must be one of head, oracle, noise, zeros/);
  throwsWith(() => generate(model, prompts, { latentSource: 'oracle' }), RangeError, 'ERR_ARG', /needs oracleLatents, one tensor per prompt \(3\)/);
  throwsWith(() => generate(model, [prompts[0]], { latentSource: 'oracle', oracleLatents: [mm.Tensor.zeros([3, dim])] }), RangeError, 'ERR_SHAPE', /oracleLatents\[0\] must be \[S, \d+\] with S a positive multiple of K = 4/);
  throwsWith(() => generate({ ...model, head: new RegressionHead({ latentDim: 8, condDim: dim, width: 8, depth: 1 }) }, prompts, {}), RangeError, 'ERR_SHAPE', /the head maps/);
  throwsWith(() => generate(model, prompts, { temperature: -1 }), RangeError, 'ERR_ARG', /temperature/);
});

test.run();
