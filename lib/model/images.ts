// Task images (lib/tasks/types.ts Image) as model input tensors.
import { argError } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import type { Image } from '../tasks/types.ts';

/** Images (HWC, [0, 1]) -> f32 [N, H, W, C]; all must have the same size. */
export function imagesToTensor(images: readonly Image[], options: { channels?: number } = {}): Tensor {
  if (images.length === 0) throw argError('range', 'ERR_ARG', 'imagesToTensor: no images');
  const { width, height } = images[0];
  const channels = options.channels ?? 3;
  const data = new Float32Array(images.length * height * width * channels);
  images.forEach((image, i) => {
    if (image.width !== width || image.height !== height || image.data.length !== width * height * channels) {
      throw argError('range', 'ERR_SHAPE', `imagesToTensor: image ${i} is ${image.width}x${image.height} with ${image.data.length} values; image 0 is ${width}x${height}x${channels}`);
    }
    data.set(image.data, i * height * width * channels);
  });
  return Tensor.from(data, [images.length, height, width, channels]);
}
