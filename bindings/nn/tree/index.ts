// Recursive networks: trees and their parsers, the tree models, the sentiment classifier over them, and the
// vocabulary that maps their words to ids.

export { Tree, parseTree, treeToJSON, TreeError, TreeParseError, type ParsedTree, type TreeJSON } from './structure.js';
export {
  TreeModule, TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM,
  type TreeModelKind, type TreeModuleOptions, type TreeForwardOptions, type TreeForwardResult, type TreeBackwardGradients,
} from './modules.js';
export {
  TreeClassifier, type TreeClassifierOptions, type TreeClassifierForwardOptions, type TreeClassifierResult,
} from './classifier.js';
export { buildVocab, type Sentence, type Vocab, type VocabOptions } from './vocab.js';
