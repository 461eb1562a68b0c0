// The webcam page of an exported bundle: camera (or photo) -> face crop -> TF.js model -> bars.
//
// Everything is loaded from this folder (model.json, metadata.json, vendor/): no network needed.
// The face crop mirrors fer/faces.py step by step, with the numbers from metadata.json:
//   grayscale with BT.601 weights, Haar cascade on a copy shrunk to max_detection_side,
//   the largest face, a square with a margin slid inside the image, INTER_AREA to 48x48, / 255.
// URL options: ?backend=wasm|webgl|cpu forces a backend; ?camera=0 starts without the camera;
// ?lang=zh-TW|en chooses the language (else the browser's).
(() => {
  'use strict';

  const params = new URLSearchParams(window.location.search);

  // ------------------------------------------------------------------ sentences in the reader's language
  // i18n/<language>.json holds this page's sentences, written from the app's gettext catalogues
  // (fer.i18n.write_webcam_catalogues). English is the source language: it needs no file, and a
  // sentence missing from the file stays in English.
  let messages = {};
  const _ = (sentence) => messages[sentence] || sentence;
  const N_ = (sentence) => sentence;  // marks a sentence for the catalogue; translated where shown
  const format = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  // The labels metadata.json lists (fer.data.EMOTIONS), marked so that the catalogue gives this page their names.
  const LABEL_NAMES = [N_('Angry'), N_('Disgust'), N_('Fear'), N_('Happy'), N_('Sad'), N_('Surprise'), N_('Neutral')];

  function pageLanguage() {
    const wanted = [params.get('lang'), ...(navigator.languages || [navigator.language])];
    for (const tag of wanted) {
      const lower = String(tag || '').replace('_', '-').toLowerCase();
      if (lower.startsWith('zh')) return 'zh-TW';  // the one Chinese catalogue, as in fer.i18n
      if (lower.startsWith('en')) return 'en';
    }
    return 'en';
  }
  const language = pageLanguage();

  async function loadSentences() {
    if (language === 'en') return;
    try {
      const response = await fetch(`i18n/${language}.json`, { cache: 'no-cache' });
      if (response.ok) messages = (await response.json()).messages || {};
    } catch (error) {
      messages = {};
    }
    if (!Object.keys(messages).length) return;  // a bundle without this language stays in English
    document.documentElement.lang = language;
    for (const node of document.querySelectorAll('[data-i18n]')) {
      node.textContent = _(node.textContent.replace(/\s+/g, ' ').trim());
    }
  }

  const labelName = (label) => (LABEL_NAMES.includes(label) ? _(label) : label);
  // Before any tensor exists: the wasm binaries come from this folder, never from a CDN.
  if (window.tf && tf.wasm && tf.wasm.setWasmPaths) tf.wasm.setWasmPaths('vendor/');
  const element = (id) => document.getElementById(id);
  const view = element('view');
  const viewContext = view.getContext('2d', { willReadFrequently: true });
  const video = element('video');

  const debug = {
    state: 'loading', message: '', backend: null, backendTimings: {},
    ready: false, modelReady: false, detectorReady: false,
    frames: 0, fps: 0, timings: null,
    last: null, lastLabel: null,
    predict48: null, predictFace: null, cropImageData: null, snapshot: null,
  };
  window.ferDebug = debug;

  let metadata = null;
  let model = null;
  let cv = null;
  let classifier = null;
  let spec = null;
  let stream = null;

  // ------------------------------------------------------------------ states shown to people

  function setStatus(state, message, kind) {
    debug.state = state;
    debug.message = message;
    const status = element('status');
    status.textContent = message;
    status.className = kind || '';
    status.dataset.state = state;
  }

  function fail(state, message) {
    setStatus(state, message, 'error');
  }

  // ------------------------------------------------------------------ loading

  async function loadMetadata() {
    const response = await fetch('metadata.json', { cache: 'no-cache' });
    if (!response.ok) {
      throw new Error(format(_('metadata.json could not be fetched (HTTP {status}): export the model again.'),
        { status: response.status }));
    }
    return response.json();
  }

  function loadOpenCv() {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = 'vendor/opencv.js';
      script.async = true;
      script.onerror = () => reject(new Error(_('vendor/opencv.js could not be loaded')));
      script.onload = () => {
        const loaded = window.cv;
        // Resolve with a wrapper: the Emscripten module is itself "thenable".
        if (loaded instanceof Promise) loaded.then((module) => resolve({ module }), reject);
        else if (loaded && loaded.Mat) resolve({ module: loaded });
        else if (loaded) loaded.onRuntimeInitialized = () => resolve({ module: loaded });
        else reject(new Error(_('vendor/opencv.js did not define cv')));
      };
      document.head.appendChild(script);
    });
  }

  async function loadDetector() {
    cv = (await loadOpenCv()).module;
    const fileName = spec.cascade_file;
    const response = await fetch(`vendor/${fileName}`);
    if (!response.ok) {
      throw new Error(format(_('{file} could not be fetched (HTTP {status})'),
        { file: `vendor/${fileName}`, status: response.status }));
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    cv.FS_createDataFile('/', fileName, bytes, true, false, false);
    classifier = new cv.CascadeClassifier();
    if (!classifier.load(fileName)) {
      throw new Error(format(_('OpenCV could not read the face detector {file}'), { file: fileName }));
    }
    debug.detectorReady = true;
  }

  function fetchModel() {
    // An absolute URL: TF.js resolves the weight files against the model URL's folder, and a bare
    // 'model.json' makes that the server root (which Streamlit answers with its own HTML page).
    const modelUrl = new URL('model.json', document.baseURI).href;
    return tf.loadGraphModel(modelUrl, { requestInit: { cache: 'no-cache' } });
  }

  async function millisecondsPerFace(candidate) {
    const input = tf.zeros([1, 48, 48, 1]);
    try {
      for (let i = 0; i < 3; i += 1) await candidate.predict(input).data();
      const started = performance.now();
      for (let i = 0; i < 10; i += 1) await candidate.predict(input).data();
      return (performance.now() - started) / 10;
    } finally {
      tf.dispose(input);
    }
  }

  async function backendWorks(name) {
    try {
      if (!(await tf.setBackend(name))) return false;
      await tf.ready();
      return true;
    } catch (error) {
      return false;
    }
  }

  // A fresh copy of the model on the current backend, and its time per face. Each backend gets its
  // own copy: a graph model moved from webgl back to wasm read its integer constants wrongly.
  async function timedModel(name) {
    const candidate = await fetchModel();  // a broken model.json throws its real reason here
    return { name, candidate, ms: await millisecondsPerFace(candidate) };
  }

  // wasm by default; webgl when it runs the model faster; cpu as the last resort; ?backend= forces one.
  async function loadModel() {
    const requested = params.get('backend');
    const timings = {};
    let chosen = null;
    let why = _('chosen in the URL');
    if (requested) {
      if (!(await backendWorks(requested))) {
        throw new Error(format(_('the {backend} backend is not available in this browser'), { backend: requested }));
      }
      chosen = await timedModel(requested);
    } else {
      let wasm = null;
      let webgl = null;
      if (await backendWorks('wasm')) {
        wasm = await timedModel('wasm');
        timings.wasm = wasm.ms;
        wasm.candidate.dispose();
      }
      if (await backendWorks('webgl')) {
        try {
          webgl = await timedModel('webgl');
          timings.webgl = webgl.ms;
        } catch (error) {
          if (!wasm) throw error;
        }
      }
      if (webgl && (!wasm || webgl.ms < wasm.ms)) {
        chosen = webgl;
        why = wasm ? format(_("faster than wasm's {ms} ms"), { ms: wasm.ms.toFixed(1) }) : _('wasm unavailable');
      } else {
        if (webgl) webgl.candidate.dispose();
        const name = wasm ? 'wasm' : 'cpu';
        if (!(await backendWorks(name))) throw new Error(_('no TensorFlow.js backend could start in this browser'));
        chosen = await timedModel(name);
        if (name === 'cpu') why = _('wasm and webgl unavailable');
        else {
          why = webgl ? format(_("faster than webgl's {ms} ms"), { ms: webgl.ms.toFixed(1) })
            : _('default; webgl unavailable');
        }
      }
    }
    model = chosen.candidate;
    if (requested) timings[requested] = chosen.ms;
    debug.backend = chosen.name;
    debug.backendTimings = timings;
    element('backend').textContent = format(_('{backend} ({why}; model {ms} ms per face)'),
      { backend: chosen.name, why, ms: chosen.ms.toFixed(1) });
    debug.modelReady = true;
  }

  // ------------------------------------------------------------------ the crop, as fer/faces.py does it

  // Python's round(): halves go to the even neighbour.
  function pyRound(x) {
    const fraction = Math.abs(x % 1);
    return fraction === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
  }

  // gray = rint(0.299 R + 0.587 G + 0.114 B), computed in float64 like numpy.
  function toGray(imageData) {
    const [wr, wg, wb] = spec.grayscale_weights;
    const { data, width, height } = imageData;
    const gray = new cv.Mat(height, width, cv.CV_8UC1);
    const out = gray.data;
    for (let i = 0, j = 0; j < out.length; i += 4, j += 1) {
      const value = data[i] * wr + data[i + 1] * wg + data[i + 2] * wb;
      out[j] = Math.min(255, Math.max(0, pyRound(value)));
    }
    return gray;
  }

  function detectFaces(gray) {
    const height = gray.rows;
    const width = gray.cols;
    const shrink = Math.min(1.0, spec.max_detection_side / Math.max(height, width));
    let small = gray;
    if (shrink < 1.0) {
      small = new cv.Mat();
      const size = new cv.Size(Math.max(1, pyRound(width * shrink)), Math.max(1, pyRound(height * shrink)));
      cv.resize(gray, small, size, 0, 0, cv.INTER_AREA);
    }
    const minSide = Math.max(spec.min_face_pixels, pyRound(spec.min_face_fraction * Math.min(small.rows, small.cols)));
    const found = new cv.RectVector();
    classifier.detectMultiScale(small, found, spec.scale_factor, spec.min_neighbors, 0,
      new cv.Size(minSide, minSide), new cv.Size(0, 0));
    const boxes = [];
    for (let i = 0; i < found.size(); i += 1) {
      const r = found.get(i);
      boxes.push([r.x, r.y, r.width, r.height].map((value) => pyRound(value / shrink)));
    }
    found.delete();
    if (small !== gray) small.delete();
    boxes.sort((a, b) => b[2] * b[3] - a[2] * a[3]);  // stable, like Python's sort
    return boxes;
  }

  function squareCropBox(box, height, width, margin) {
    const [x, y, boxWidth, boxHeight] = box;
    let side = pyRound(Math.max(boxWidth, boxHeight) * (1 + 2 * margin));
    side = Math.max(1, Math.min(side, height, width));
    const centreX = x + boxWidth / 2;
    const centreY = y + boxHeight / 2;
    const left = Math.min(Math.max(pyRound(centreX - side / 2), 0), width - side);
    const top = Math.min(Math.max(pyRound(centreY - side / 2), 0), height - side);
    return [left, top, side, side];
  }

  const INTERPOLATIONS = { area: 'INTER_AREA', bilinear: 'INTER_LINEAR', nearest: 'INTER_NEAREST' };

  // ImageData (RGBA) -> {found, box, cropBox, pixels: Uint8Array(48*48)} exactly as fer.faces.crop_face.
  function cropImageData(imageData) {
    const size = spec.output_size;
    const gray = toGray(imageData);
    try {
      if (imageData.width === size && imageData.height === size) {
        return { found: true, box: [0, 0, size, size], cropBox: [0, 0, size, size], pixels: new Uint8Array(gray.data) };
      }
      const boxes = detectFaces(gray);
      if (!boxes.length) return { found: false, boxes };
      const cropBox = squareCropBox(boxes[0], gray.rows, gray.cols, spec.margin);
      const [left, top, side] = cropBox;
      const square = gray.roi(new cv.Rect(left, top, side, side));
      const face = new cv.Mat();
      cv.resize(square, face, new cv.Size(size, size), 0, 0, cv[INTERPOLATIONS[spec.resize_interpolation]]);
      const pixels = new Uint8Array(face.data);
      square.delete();
      face.delete();
      return { found: true, box: boxes[0], cropBox, pixels, boxes };
    } finally {
      gray.delete();
    }
  }

  // ------------------------------------------------------------------ the model

  async function predictPixels(input) {
    const probabilities = tf.tidy(() => {
      const batch = tf.tensor4d(input, [1, 48, 48, 1], 'float32');
      return model.predict(batch);
    });
    try {
      return Array.from(await probabilities.data());
    } finally {
      probabilities.dispose();
    }
  }

  // A 48x48 face (0..255) -> the model's input, with the divisor metadata.json states.
  function modelInput(pixels) {
    const input = new Float32Array(pixels.length);
    for (let i = 0; i < input.length; i += 1) input[i] = pixels[i] / spec.divide_by;
    return input;
  }

  // For tests: the model on an input already scaled (predict48), or on a face's pixels (predictFace).
  debug.predict48 = async (values) => {
    if (!model) throw new Error('the model is not loaded');  // for tests, not people: English
    if (values.length !== 48 * 48) throw new Error(`predict48 needs 2304 values, got ${values.length}`);
    return predictPixels(Float32Array.from(values));
  };

  debug.predictFace = async (pixels) => {
    if (!model) throw new Error('the model is not loaded');
    if (pixels.length !== 48 * 48) throw new Error(`predictFace needs 2304 pixels, got ${pixels.length}`);
    return predictPixels(modelInput(pixels));
  };

  // ------------------------------------------------------------------ drawing

  function buildBars() {
    const bars = element('bars');
    bars.innerHTML = '';
    metadata.labels.forEach((label, index) => {
      const row = document.createElement('div');
      row.className = 'bar';
      row.dataset.index = String(index);
      row.innerHTML = '<span></span><div class="track"><div class="fill"></div></div><span class="value">-</span>';
      row.querySelector('span').textContent = labelName(label);
      bars.appendChild(row);
    });
  }

  function showProbabilities(probabilities) {
    const rows = element('bars').children;
    let best = -1;
    if (probabilities) best = probabilities.indexOf(Math.max(...probabilities));
    for (let i = 0; i < rows.length; i += 1) {
      const p = probabilities ? probabilities[i] : 0;
      rows[i].querySelector('.fill').style.width = `${(100 * p).toFixed(1)}%`;
      rows[i].querySelector('.value').textContent = probabilities ? `${(100 * p).toFixed(1)}%` : '-';
      rows[i].classList.toggle('top', i === best);
    }
    const label = best >= 0 ? metadata.labels[best] : null;
    element('prediction').textContent = label ? `${labelName(label)} ${(100 * probabilities[best]).toFixed(0)}%` : '';
    debug.lastLabel = label;
  }

  function showCrop(pixels) {
    const context = element('crop').getContext('2d');
    const image = context.createImageData(48, 48);
    for (let i = 0; i < pixels.length; i += 1) {
      image.data.set([pixels[i], pixels[i], pixels[i], 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  }

  function drawBoxes(result) {
    viewContext.lineWidth = Math.max(2, view.width / 160);
    if (!result.found) return;
    const [x, y, w, h] = result.box;
    viewContext.strokeStyle = '#00dc00';
    viewContext.strokeRect(x, y, w, h);
    const [left, top, side] = result.cropBox;
    viewContext.strokeStyle = '#00c8ff';
    viewContext.strokeRect(left, top, side, side);
  }

  // One photo or camera frame, already drawn in `view`: crop, predict, show.
  // debug.last is replaced in one step, so a test never reads a frame with another frame's crop.
  async function analyseView() {
    const started = performance.now();
    const imageData = viewContext.getImageData(0, 0, view.width, view.height);
    const result = cropImageData(imageData);
    const cropped = performance.now();
    drawBoxes(result);
    if (!result.found) {
      showProbabilities(null);
      debug.last = { frame: imageData, found: false };
      return { found: false, cropMs: cropped - started, predictMs: 0 };
    }
    const input = modelInput(result.pixels);
    const probabilities = await predictPixels(input);
    const predicted = performance.now();
    showCrop(result.pixels);
    showProbabilities(probabilities);
    debug.last = {
      frame: imageData, found: true, box: result.box, cropBox: result.cropBox,
      cropPixels: Array.from(result.pixels), crop: Array.from(input), probabilities,
      label: debug.lastLabel,
    };
    return { found: true, cropMs: cropped - started, predictMs: predicted - cropped };
  }

  debug.cropImageData = (width, height, rgba) => {
    const result = cropImageData(new ImageData(Uint8ClampedArray.from(rgba), width, height));
    return result.found ? { found: true, box: result.box, cropBox: result.cropBox, pixels: Array.from(result.pixels) } : { found: false };
  };

  // The last analysed frame and what the page made of it; the frame as RGBA in base64, for
  // Python's fer.faces.crop_face to see the very same pixels.
  debug.snapshot = () => {
    const last = debug.last;
    if (!last) return null;
    const bytes = last.frame.data;
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    const { frame, ...rest } = last;
    return { ...rest, width: frame.width, height: frame.height, rgbaBase64: btoa(binary) };
  };

  // ------------------------------------------------------------------ camera loop

  const frameTimes = [];
  let busy = false;
  let sums = { crop: 0, predict: 0, count: 0 };

  function fitView(width, height) {
    const frameWidth = metadata.webcam.frame_width;
    const scaledHeight = Math.round((height * frameWidth) / width);
    if (view.width !== frameWidth || view.height !== scaledHeight) {
      view.width = frameWidth;
      view.height = scaledHeight;
    }
  }

  async function processFrame() {
    if (!stream || busy || video.readyState < 2 || !video.videoWidth) return;
    busy = true;
    try {
      fitView(video.videoWidth, video.videoHeight);
      viewContext.drawImage(video, 0, 0, view.width, view.height);
      const result = await analyseView();
      const now = performance.now();
      frameTimes.push(now);
      while (frameTimes.length && now - frameTimes[0] > 2000) frameTimes.shift();
      debug.frames += 1;
      if (frameTimes.length > 1) {
        debug.fps = (1000 * (frameTimes.length - 1)) / (frameTimes[frameTimes.length - 1] - frameTimes[0]);
        element('fps').textContent = debug.fps.toFixed(1);
      }
      sums.crop += result.cropMs;
      sums.predict += result.predictMs;
      sums.count += 1;
      if (sums.count >= 10) {
        debug.timings = { cropMs: sums.crop / sums.count, predictMs: sums.predict / sums.count };
        element('timing').textContent = format(_('face {crop} ms + model {predict} ms'),
          { crop: debug.timings.cropMs.toFixed(1), predict: debug.timings.predictMs.toFixed(1) });
        sums = { crop: 0, predict: 0, count: 0 };
      }
      if (result.found) {
        setStatus('face', _('Face found: the green box is the detector, the blue square what the model sees.'), 'ok');
      } else {
        setStatus('no-face', _('No face found: look straight at the camera, with light on your face.'), 'warn');
      }
    } catch (error) {
      fail('error', format(_('Something went wrong while analysing the frame: {reason}'),
        { reason: error.message || error }));
    } finally {
      busy = false;
    }
  }

  function scheduleFrames() {
    const tick = () => {
      if (!stream) return;
      processFrame().finally(() => {
        if (!stream) return;
        if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(tick);
        else window.requestAnimationFrame(tick);
      });
    };
    tick();
  }

  function cameraErrorMessage(error) {
    const name = error && error.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      return ['camera-refused', _('The camera was refused: allow it in the browser (the camera icon in the address bar) and reload, or drop a photo below.')];
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
      return ['no-camera', _('No camera found on this computer: drop a photo below instead.')];
    }
    if (name === 'NotReadableError') {
      return ['no-camera', _('The camera is busy (another program or tab uses it): close that, or drop a photo below.')];
    }
    return ['no-camera', format(_('The camera could not start ({name}: {reason}): drop a photo below instead.'),
      { name: name || 'error', reason: error && error.message })];
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      fail('no-camera', window.isSecureContext
        ? _('This browser offers no camera: drop a photo below instead.')
        : _('No camera here: browsers only allow the camera on https:// or http://localhost pages. Open the page that way, or drop a photo below.'));
      return;
    }
    setStatus('starting-camera', _('Asking for the camera…'));
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    } catch (error) {
      stream = null;
      const [state, message] = cameraErrorMessage(error);
      fail(state, message);
      return;
    }
    video.srcObject = stream;
    await video.play();
    element('camera-button').textContent = _('Stop camera');
    setStatus('camera', _('Camera on: looking for a face…'));
    scheduleFrames();
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    element('camera-button').textContent = _('Start camera');
  }

  // ------------------------------------------------------------------ photo upload

  async function analysePhoto(file) {
    if (!debug.ready) return;
    stopCamera();
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (error) {
      fail('bad-photo', format(_('{file} is not an image this browser can read: choose a PNG or JPEG photo.'),
        { file: file.name }));
      return;
    }
    view.width = bitmap.width;
    view.height = bitmap.height;
    viewContext.drawImage(bitmap, 0, 0);
    const result = await analyseView();
    if (result.found) setStatus('face', format(_('Face found in {file}.'), { file: file.name }), 'ok');
    else {
      setStatus('no-face', format(_('No face found in {file}: try a brighter, front-on photo where the face fills more of the frame.'),
        { file: file.name }), 'warn');
    }
  }

  function wireControls() {
    element('camera-button').addEventListener('click', () => (stream ? stopCamera() : startCamera()));
    element('file').addEventListener('change', (event) => {
      if (event.target.files.length) analysePhoto(event.target.files[0]);
    });
    const drop = element('drop');
    drop.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (event) => {
      event.preventDefault();
      drop.classList.remove('over');
      if (event.dataTransfer.files.length) analysePhoto(event.dataTransfer.files[0]);
    });
  }

  function describeModel() {
    const accuracy = typeof metadata.test_accuracy === 'number'
      ? format(_('{percent}% test accuracy'), { percent: (100 * metadata.test_accuracy).toFixed(1) })
      : _('test accuracy unknown');
    const megabytes = (metadata.weights.model_bytes / 1e6).toFixed(2);
    const exported = new Date(metadata.exported);
    const date = Number.isNaN(exported.getTime()) ? metadata.exported : exported.toLocaleString(language);
    element('model-info').textContent = format(_('{model} · {accuracy} · {dtype} weights, {megabytes} MB · exported {date}'),
      { model: metadata.model_name, accuracy, dtype: metadata.weights.dtype, megabytes, date });
  }

  async function main() {
    await loadSentences();
    wireControls();
    try {
      metadata = await loadMetadata();
      spec = { ...metadata.preprocessing.face_crop, divide_by: metadata.preprocessing.divide_by };
      describeModel();
      buildBars();
    } catch (error) {
      fail('model-failed', format(_('The model failed to load: {reason}'), { reason: error.message || error }));
      return;
    }
    const failed = (state, sentence) => (error) => {
      const wrapped = new Error(format(sentence, { reason: error.message || error }));
      wrapped.state = state;
      throw wrapped;
    };
    try {
      await Promise.all([
        loadModel().catch(failed('model-failed', _('The model failed to load: {reason}'))),
        loadDetector().catch(failed('detector-failed', _('The face detector failed to load: {reason}'))),
      ]);
    } catch (error) {
      fail(error.state || 'model-failed', error.message);
      return;
    }
    debug.ready = true;
    setStatus('ready', _('Model ready.'), 'ok');
    if (params.get('camera') !== '0') await startCamera();
    else setStatus('ready', _('Model ready: start the camera, or drop a photo.'), 'ok');
  }

  main();
})();
