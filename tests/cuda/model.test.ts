// The whole model on CUDA against the CPU: the same weights and batch give the same modal-mixed
// loss (CE + diffusion, the same Philox draws), the same gradient for every parameter, the same
// trajectory over a few AdamW steps with clipping, and the same greedy generation (KV cache,
// latent slots filled by the diffusion head). This is the "same TypeScript program runs on the
// GPU unchanged" check; the op-level suites localise a failure.
import { test as uvu } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { fitLatentStats, type ModalMixedModel } from '../../lib/model/modal-mixed.ts';
import { buildTrace, promptTrace } from '../../lib/tasks/traces.ts';
import { generate } from '../../lib/infer/generate.ts';
import { mazeBatch, mazeExamples, smallModel, tokenizer } from '../model/modal-mixed-helpers.ts';
import { gpuTest, relativeError } from './compare.ts';

const test = gpuTest();

/** A CPU model and a CUDA copy with the same weights and latent statistics. */
function twinModels(): { cpu: ModalMixedModel; gpu: ModalMixedModel; examples: mm.tasks.Example[] } {
  mm.setDefaultDevice('cpu');
  mm.manualSeed(5);
  const cpu = smallModel({ prediction: 'x0' });
  const examples = mazeExamples([1, 2, 3]);
  fitLatentStats(cpu, examples);
  mm.noGrad(() => {
    // the head's output layers start at zero; make every parameter matter for the comparison
    for (const p of cpu.head.parameters()) mm.ops.sliceAssign(p, mm.ops.scale(mm.Tensor.randn(p.shape), 0.05), 0, 0);
  });
  const gpu = smallModel({ prediction: 'x0' });
  gpu.loadStateDict(cpu.stateDict());
  gpu.to('cuda');
  return { cpu, gpu, examples };
}

function lossOn(model: ModalMixedModel, examples: mm.tasks.Example[], device: 'cpu' | 'cuda', seed: number) {
  mm.setDefaultDevice(device);
  const batch = mazeBatch(model, examples);
  mm.manualSeed(seed);
  return model.loss(batch);
}

test('modal-mixed loss, metrics and every parameter gradient on CUDA match the CPU', () => {
  const { cpu, gpu, examples } = twinModels();
  mm.scope(() => {
    const lc = lossOn(cpu, examples, 'cpu', 9);
    const lg = lossOn(gpu, examples, 'cuda', 9);
    for (const key of ['ce', 'diffusion', 'loss'] as const) {
      const err = Math.abs(lg.metrics[key] - lc.metrics[key]) / Math.max(1, Math.abs(lc.metrics[key]));
      assert.ok(err < 1e-5, `${key}: cuda ${lg.metrics[key]} vs cpu ${lc.metrics[key]}`);
    }
    lc.loss.backward();
    lg.loss.backward();
    const gpuParams = new Map(gpu.namedParameters());
    let checked = 0;
    for (const [name, p] of cpu.namedParameters()) {
      const q = gpuParams.get(name)!;
      if (!p.grad) {
        assert.ok(!q.grad, `${name}: grad on CUDA only`);
        continue;
      }
      assert.ok(q.grad, `${name}: no grad on CUDA`);
      assert.match(q.grad!.device, /^cuda/);
      const err = relativeError(q.grad!.toArray() as Float32Array, p.grad.toArray() as Float32Array);
      assert.ok(err < 1e-4, `${name}: gradient relative error ${err.toExponential(2)}`);
      checked++;
    }
    assert.ok(checked > 20, `compared ${checked} gradients`);
  });
  cpu.dispose();
  gpu.dispose();
  mm.setDefaultDevice('cpu');
});

test('five AdamW steps with clipping follow the same loss trajectory on CUDA and CPU', () => {
  const { cpu, gpu, examples } = twinModels();
  const trajectory = (model: ModalMixedModel, device: 'cpu' | 'cuda') => {
    const params = model.trainableParameters();
    const opt = new mm.optim.AdamW(params, { lr: 3e-3, weightDecay: 0.01 });
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      mm.scope(() => {
        const out = lossOn(model, examples, device, 100 + step);
        losses.push(out.metrics.loss);
        out.loss.backward();
        mm.optim.clipGradNorm(params, 0.5);
        opt.step();
        opt.zeroGrad();
      });
    }
    opt.dispose();
    return losses;
  };
  const lc = trajectory(cpu, 'cpu'), lg = trajectory(gpu, 'cuda');
  lc.forEach((l, i) => assert.ok(Math.abs(lg[i] - l) / Math.max(1, l) < 1e-4, `step ${i}: cuda ${lg[i]} vs cpu ${l}`));
  assert.ok(lc[4] < lc[0], 'the loss falls');
  cpu.dispose();
  gpu.dispose();
  mm.setDefaultDevice('cpu');
});

test('greedy generation with head-sampled latents gives the same chains on CUDA and CPU', () => {
  const { cpu, gpu, examples } = twinModels();
  const prompts = examples.map((e) => promptTrace(buildTrace(e, tokenizer, 'modal-mixed')));
  const run = (model: ModalMixedModel, device: 'cpu' | 'cuda') => {
    mm.setDefaultDevice(device);
    return generate({ vlm: model.vlm, head: model.head, tokenizer }, prompts, { greedy: true, seed: 4, maxNewTokens: 24, latentSteps: 8 });
  };
  const oc = run(cpu, 'cpu'), og = run(gpu, 'cuda');
  oc.forEach((row, i) => {
    assert.equal(Array.from(og[i].tokens), Array.from(row.tokens), `row ${i} tokens`);
    if (row.latents) {
      const err = relativeError(og[i].latents!.toArray() as Float32Array, row.latents.toArray() as Float32Array);
      assert.ok(err < 1e-3, `row ${i} latents: ${err}`);
    }
    row.latents?.dispose();
    og[i].latents?.dispose();
  });
  cpu.dispose();
  gpu.dispose();
  mm.setDefaultDevice('cpu');
});

uvu.run();
