// GEMM family on CUDA tensors: until the CUDA op set lands, products on the GPU say so, and
// operands on different devices are refused by name. Run with `npm run test:cuda`.
import { test } from 'uvu';
import * as mm from '../../lib/index.ts';
import { throwsWith } from '../helpers.ts';

const available = mm.cuda.available();
const gpuTest = available ? test : test.skip;
if (!available) console.log(`CUDA tests skipped: ${mm.backends().cuda.reason}`);

gpuTest('matmul on CUDA tensors: not implemented yet, and mixed devices are refused', () => {
  mm.scope(() => {
    const a = mm.Tensor.zeros([2, 3], { device: 'cuda' }), b = mm.Tensor.zeros([3, 4], { device: 'cuda' });
    throwsWith(() => mm.ops.matmul(a, b), mm.MmcotError, 'ERR_UNSUPPORTED', /matmul: not implemented on CUDA yet/);
    throwsWith(() => mm.ops.matmul(a, mm.Tensor.zeros([3, 4], { device: 'cpu' })), mm.MmcotError, 'ERR_DEVICE', /'a' is on cuda:0 but 'b' is on cpu/);
    const c = mm.Tensor.zeros([2, 4], { device: 'cpu' });
    throwsWith(() => mm.ops.gemmInto(c, a.to('cpu'), b), mm.MmcotError, 'ERR_DEVICE', /'a' is on cpu:0 but 'b' is on cuda:0/);
  });
});

test.run();
