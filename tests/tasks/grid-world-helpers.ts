// Checks shared by the four grid-world task tests (maze-final, maze-plan, lake-outcome, lake-plan).
import * as assert from 'uvu/assert';
import { COLORS } from '../../lib/tasks/canvas.ts';
import { gridLayout, MOVES, walk, type GridWorld, type Move } from '../../lib/tasks/tasks/grid-world.ts';
import type { Example, Image, Task } from '../../lib/tasks/types.ts';

export const SEEDS = Array.from({ length: 60 }, (_, i) => i);

export function allLevels(task: Task): number[] {
  return [...task.levels.train, ...task.levels.ood];
}

/** Tokens as the word-level tokenizer cuts them: at spaces and around . , ? : ( ) -, lower-cased,
 * numbers split into digits. */
export function tokens(text: string): string[] {
  return text.toLowerCase().split(/\s+|([.,?:()-])/).filter((token) => token)
    .flatMap((token) => (/^\d+$/.test(token) ? token.split('') : [token]));
}

/** Every token the example can emit is in the task's closed vocabulary. */
export function assertInVocabulary(task: Task, example: Example): void {
  const vocabulary = new Set(task.vocabulary());
  const texts = [example.question, example.caption, example.answer, ...example.stepDescriptions,
    ...example.steps.flatMap((step) => [step.text, step.caption])];
  for (const text of texts) {
    for (const token of tokens(text)) assert.ok(vocabulary.has(token), `${task.id}: "${token}" missing from the vocabulary (in "${text}")`);
  }
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** The moves a step sentence reports: "the agent moves right two cells ..." gives right right. */
export function movesOfStep(text: string): Move[] {
  const match = /^the agent moves (up|down|left|right) (\w+) cells? /.exec(text);
  assert.ok(match, `step text does not say how the agent moves: "${text}"`);
  const count = NUMBER_WORDS.indexOf(match[2]);
  assert.ok(count > 0, `step text has no count: "${text}"`);
  return Array<Move>(count).fill(match[1] as Move);
}

/** The agent's cell as a caption states it ("the agent is at row r column c"). */
export function agentCellOfCaption(caption: string, size: number): number {
  const match = /the agent is at row (\d) column (\d)/.exec(caption);
  assert.ok(match, `caption does not place the agent: "${caption}"`);
  return (Number(match[1]) - 1) * size + Number(match[2]) - 1;
}

/** The cells whose interior holds an agent-red pixel. */
export function cellsWithAgentColour(image: Image, size: number): number[] {
  const layout = gridLayout(image.width, size);
  const [r, g, b] = COLORS.red;
  const found = new Set<number>();
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 3;
      if (image.data[i] !== Math.fround(r) || image.data[i + 1] !== Math.fround(g) || image.data[i + 2] !== Math.fround(b)) continue;
      const col = Math.floor((x - layout.x0) / layout.cellPx), row = Math.floor((y - layout.y0) / layout.cellPx);
      found.add(row * size + col);
    }
  }
  return [...found];
}

/** The picture and the caption of the input and of every step put the agent where the replay of
 * the step sentences does (`cellsAfterSteps[i]` is the cell after step i), and each step changes
 * the picture. */
export function assertStepsShowAgent(example: Example, size: number, start: number, cellsAfterSteps: readonly number[]): void {
  assert.is(example.steps.length, cellsAfterSteps.length);
  const pictures = [{ image: example.image, caption: example.caption }, ...example.steps];
  const cells = [start, ...cellsAfterSteps];
  pictures.forEach((picture, i) => {
    assert.is(agentCellOfCaption(picture.caption, size), cells[i], `caption ${i}`);
    assert.equal(cellsWithAgentColour(picture.image, size), [cells[i]], `picture ${i}`);
    if (i > 0) assert.ok(!sameData(picture.image, pictures[i - 1].image), `step ${i - 1} leaves the picture unchanged`);
  });
}

export function isMoveList(answer: string): boolean {
  return answer.split(' ').every((word) => (MOVES as readonly string[]).includes(word));
}

function sameData(a: Image, b: Image): boolean {
  return a.data.length === b.data.length && a.data.every((value, i) => value === b.data[i]);
}

/** Replays the step sentences through the world: all the moves they report, and the agent's cell
 * after each step. Fails if a sentence walks through a wall. */
export function replaySteps(world: GridWorld, start: number, example: Example): { moves: Move[]; cellsAfterSteps: number[] } {
  const moves: Move[] = [];
  const cellsAfterSteps: number[] = [];
  for (const step of example.steps) {
    moves.push(...movesOfStep(step.text));
    const replay = walk(world, start, moves);
    assert.is(replay.outcome, 'done', `replay blocked at "${step.text}"`);
    cellsAfterSteps.push(replay.positions[replay.positions.length - 1]);
  }
  return { moves, cellsAfterSteps };
}
