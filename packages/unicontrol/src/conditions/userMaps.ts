// Conditions the user supplies: the official demo makes them with neural annotators (HED, MiDaS,
// UniFormer, OpenPose) that this package does not ship. What each map must look like.

/** How a user-supplied map is resized to the output size (the official demo's interpolation). */
export type Resample = 'bilinear' | 'nearest';

export interface UserMapDoc {
  resample: Resample;
  docs: string;
}

export const USER_MAPS: Readonly<Record<'hed' | 'hedsketch' | 'depth' | 'normal' | 'seg' | 'openpose', UserMapDoc>> = {
  hed: {
    resample: 'bilinear',
    docs:
      'HED soft edges: white, anti-aliased edge strokes of varying width on black, gray (R = G = B), ' +
      'continuous 0–255 (the HED network\'s sigmoid × 255). Any soft edge detector (HED, PiDiNet) fits.',
  },
  hedsketch: {
    resample: 'bilinear',
    docs:
      'Sketch: dark strokes (about 50) on a white (255) background, gray (R = G = B). The official ' +
      'demo derives it from a HED map: threshold at 110–160, invert, 3x3 Gaussian blur, then ×1.5 + 50. ' +
      'A pencil drawing on white paper is the idea.',
  },
  depth: {
    resample: 'bilinear',
    docs:
      'Depth: MiDaS (DPT-Large) relative inverse depth, min–max normalised to 0–255, near = white, ' +
      'far = black, gray (R = G = B).',
  },
  normal: {
    resample: 'bilinear',
    docs:
      'Surface normals as ControlNet 1.0 / UniControl make them from MiDaS depth d: n = normalise(' +
      'Sobel_x(d), Sobel_y(d), 0.2π) with x = y = 0 where normalised depth < 0.02, stored as ' +
      'n × 127.5 + 127.5 in R, G, B. Surfaces facing the camera are (127, 127, 255): lavender blue.',
  },
  seg: {
    resample: 'nearest',
    docs:
      'Semantic segmentation in the ADE20K palette (150 classes, e.g. wall (120, 120, 120), sky ' +
      '(6, 230, 230), person (150, 5, 61)): flat colour regions, no outlines. Resized with nearest ' +
      'neighbour so colours never blend.',
  },
  openpose: {
    resample: 'nearest',
    docs:
      'OpenPose body skeleton (18 COCO keypoints) drawn on black: each limb a coloured ellipse at 60% ' +
      'opacity, each joint a filled circle of radius 4 in its own colour; no hands or face. Resized ' +
      'with nearest neighbour.',
  },
};
