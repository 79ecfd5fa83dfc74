// maze-plan: a perfect maze with the agent and a green goal; give moves that take the agent to the
// goal through the corridors. Plans are scored by simulation, so any route that gets there without
// crossing a wall counts (detours included); the gold plan is the unique direct route. One step per
// straight stretch; the sketch shows the route walked so far.
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Task } from '../types.ts';
import {
  GRID_WORDS, MAZE_WORDS, Maze, breadthFirst, cellName, checkLevel, mazeScene, parseMoves, planReachesGoal,
  runSentence, stepsAlongRuns, walk, type Move,
} from './grid-world.ts';

export interface MazePlanPuzzle {
  readonly maze: Maze;
  readonly start: number;
  readonly goal: number;
  /** the gold plan: the direct route */
  readonly plan: readonly Move[];
}

/** The world behind an example (no pictures, no text): tests check it directly. */
export function mazePlanPuzzle(seed: number, level: number): MazePlanPuzzle {
  checkLevel('maze-plan', level, 3);
  const rng = new Rng(seed, level);
  const maze = Maze.generate(rng, level);
  const start = rng.int(0, level * level - 1);
  // routes of level to 3 x level moves: several turns, yet traces of a sensible length
  const fromStart = breadthFirst(maze, start, () => true);
  const cells = Array.from({ length: level * level }, (_, cell) => cell);
  const inRange = cells.filter((cell) => fromStart.distance(cell) >= level && fromStart.distance(cell) <= 3 * level);
  const farthest = Math.max(...cells.map((cell) => fromStart.distance(cell)));
  const goal = rng.pick(inRange.length > 0 ? inRange : cells.filter((cell) => fromStart.distance(cell) === farthest));
  return { maze, start, goal, plan: fromStart.movesTo(goal)! };
}

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  const { maze, start, goal, plan } = mazePlanPuzzle(seed, level);
  const positions = walk(maze, start, plan).positions;
  const scene = mazeScene(maze, options.size ?? 64, { goal });

  const { steps, stepDescriptions } = stepsAlongRuns(plan, positions, scene.render, (run, soFar, isLast) => {
    const at = soFar[soFar.length - 1];
    return {
      text: `${runSentence(run, run.length)}${isLast ? ' and reaches the goal' : ''} .`,
      caption: scene.caption(soFar),
      description: `the agent is at ${cellName(level, at)}${isLast ? ' , on the goal' : ''} .`,
    };
  });

  return {
    taskId: 'maze-plan',
    seed,
    level,
    question: 'the red dot is the agent and the green cell is the goal . give the moves that take the agent to the goal without crossing a wall , each move up , down , left or right .',
    image: scene.render([start]),
    caption: scene.caption([start]),
    steps,
    answer: plan.join(' '),
    verify: (answerText) => {
      const moves = parseMoves(answerText);
      return moves !== null && planReachesGoal(maze, start, goal, moves);
    },
    stepDescriptions,
  };
}

export const mazePlan: Task = {
  id: 'maze-plan',
  description: 'perfect maze with an agent and a goal: give moves that reach the goal without crossing a wall (scored by simulation)',
  levels: { train: [4, 5, 6], ood: [8] },
  generate,
  vocabulary: () => [...GRID_WORDS, ...MAZE_WORDS, 'crossing', 'wall'],
};
