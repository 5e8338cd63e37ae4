// Recursive networks: trees and their parsers, the tree models, and the sentiment classifier over them.

export { Tree, parseTree, treeToJSON, TreeError, TreeParseError, type ParsedTree, type TreeJSON } from './structure.js';
export {
  TreeModule, TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM,
  type TreeModelKind, type TreeModuleOptions, type TreeForwardOptions, type TreeForwardResult,
} from './modules.js';
export {
  TreeClassifier, type TreeClassifierOptions, type TreeClassifierForwardOptions, type TreeClassifierResult,
} from './classifier.js';
