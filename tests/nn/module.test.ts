// nn.Module mechanics: named parameters through a tree, stateDict / loadStateDict (strict, with
// shape errors), train/eval, zeroGrad, parameterCount, dispose.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mm from '../../lib/index.ts';
import { Module } from '../../lib/nn/module.ts';
import { throwsWith } from '../helpers.ts';

class Leaf extends Module {
  readonly weight: mm.Tensor;
  constructor(n: number, value: number) {
    super();
    this.weight = this.registerParameter('weight', mm.Tensor.full([n], value));
    this.registerBuffer('stats', mm.Tensor.full([2], value * 10));
  }
}

class Tree extends Module {
  readonly a = this.registerModule('a', new Leaf(2, 1));
  readonly layers = [0, 1].map((i) => this.registerModule(`layers${i}`, new Leaf(3, i + 2)));
  readonly bias = this.registerParameter('bias', mm.Tensor.zeros([1]));
}

test('named parameters and buffers follow the module tree', () => {
  const m = new Tree();
  assert.equal(m.namedParameters().map(([n]) => n), ['bias', 'a.weight', 'layers0.weight', 'layers1.weight']);
  assert.equal(Object.keys(m.stateDict()), ['bias', 'a.weight', 'layers0.weight', 'layers1.weight', 'a.stats', 'layers0.stats', 'layers1.stats']);
  assert.is(m.parameterCount(), 1 + 2 + 3 + 3);
  assert.ok(m.parameters().every((p) => p.requiresGrad));
  m.dispose();
});

test('loadStateDict copies values (strict names and shapes) and never shares storage', () => {
  const src = new Tree();
  const dst = new Tree();
  src.layers[1].weight.dispose();
  const state = { ...src.stateDict(), 'layers1.weight': mm.Tensor.from([7, 8, 9], [3]) };
  dst.loadStateDict(state);
  assert.equal(Array.from(dst.layers[1].namedParameters()[0][1].toArray()), [7, 8, 9]);
  assert.equal(Array.from(dst.stateDict()['a.stats'].toArray()), [10, 10]);
  state['layers1.weight'].dispose();
  assert.equal(Array.from(dst.stateDict()['layers1.weight'].toArray()), [7, 8, 9], 'a copy, not the caller tensor');
  throwsWith(() => dst.loadStateDict({}), mm.MmcotError, 'ERR_SHAPE', /missing bias, a\.weight/);
  throwsWith(() => dst.loadStateDict({ ...dst.stateDict(), extra: mm.Tensor.zeros([1]) }), mm.MmcotError, 'ERR_SHAPE', /unexpected extra/);
  throwsWith(() => dst.loadStateDict({ ...dst.stateDict(), bias: mm.Tensor.zeros([2]) }), mm.MmcotError, 'ERR_SHAPE', /'bias' has shape \[2\], the module expects \[1\]/);
  src.dispose();
  dst.dispose();
});

test('train/eval propagate; zeroGrad drops gradients; names are checked', () => {
  const m = new Tree();
  assert.ok(m.training && m.layers[0].training);
  m.eval();
  assert.not.ok(m.training || m.layers[0].training || m.a.training);
  m.train();
  assert.ok(m.a.training);
  m.bias.grad = mm.Tensor.ones([1]);
  m.zeroGrad();
  assert.is(m.bias.grad, null);
  class Bad extends Module {
    constructor() {
      super();
      this.registerParameter('a.b', mm.Tensor.zeros([1]));
    }
  }
  throwsWith(() => new Bad(), TypeError, 'ERR_ARG', /contain no '\.'/);
  m.dispose();
});

test('parameters outlive scopes; dispose frees everything', () => {
  const before = mm.memory().cpu.tensors;
  const m = mm.scope(() => new Tree());
  assert.not.ok(m.bias.disposed);
  m.dispose();
  assert.is(mm.memory().cpu.tensors, before);
});

test.run();
