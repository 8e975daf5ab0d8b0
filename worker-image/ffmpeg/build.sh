#!/usr/bin/env bash
# Builds the worker's FFmpeg from Debian's source package (unpacked by `apt-get source ffmpeg` in the current
# directory, patches applied) with only what a merge, its probe and its pictures need: no devices (SDL, X11,
# mesa and LLVM came in through libavdevice), no network protocols (the worker downloads clips itself and
# hands FFmpeg local files only), no hardware acceleration. Installs ffmpeg, ffprobe and the shared
# libraries under PREFIX (default /usr/local), stripped.
# Usage (in the Dockerfile's build stage): build.sh SOURCE_DIR [PREFIX]
set -euo pipefail
src="$1" prefix="${2:-/usr/local}"

join() { local IFS=,; echo "$*"; }

# Decoders: what phones, cameras and editors write, so real clips decode.
video_decoders=(h264 hevc libdav1d vp8 vp9 mpeg4 h263 h263p msmpeg4v1 msmpeg4v2 msmpeg4v3 mpeg1video mpeg2video
  mjpeg prores dnxhd dvvideo vc1 wmv1 wmv2 wmv3 flv theora rawvideo png)
audio_decoders=(aac aac_latm mp1float mp2float mp3float opus vorbis ac3 eac3 flac alac dca amrnb amrwb
  wmav1 wmav2 wmapro adpcm_ima_qt adpcm_ima_wav adpcm_ms pcm_alaw pcm_mulaw pcm_s8 pcm_u8 pcm_s16le pcm_s16be
  pcm_s24le pcm_s24be pcm_s32le pcm_s32be pcm_f32le pcm_f32be pcm_f64le pcm_f64be pcm_bluray pcm_dvd)
# Encoders: the merge's H.264 and AAC; JPEG/PNG for pictures; the null muxer's defaults (-f null checks).
encoders=(libx264 aac mjpeg png rawvideo wrapped_avframe pcm_s16le)
demuxers=(mov matroska mpegts mpegps avi flv ogg asf dv mxf ivf wav mp3 aac ac3 eac3 flac amr h264 hevc m4v
  mpegvideo concat image2 image_jpeg_pipe image_png_pipe)
muxers=(mp4 mov image2 image2pipe null)
protocols=(file pipe)
# Filters: the merge's chains (ffmpeg_args.py), what the ffmpeg CLI inserts itself (autorotate, -t/-ss,
# format conversion) and what a poster or storyboard needs (select, thumbnail, tile/stacks, drawtext).
filters=(scale setsar setdar pad crop fps trim atrim format aformat aresample anullsrc apad concat yadif
  null anull transpose hflip vflip rotate setpts asetpts split asplit volume
  select aselect thumbnail tile xstack hstack vstack overlay drawtext color tpad)

cd "$src"
./configure \
  --prefix="$prefix" \
  --extra-version=videomerge \
  --toolchain=hardened \
  --enable-gpl \
  --enable-shared --disable-static \
  --disable-debug --disable-doc --disable-htmlpages --disable-manpages --disable-podpages --disable-txtpages \
  --disable-autodetect --disable-everything --disable-avdevice --disable-postproc --disable-network \
  --disable-ffplay \
  --enable-zlib --enable-libx264 --enable-libdav1d --enable-libfreetype --enable-libfontconfig \
  --enable-decoder="$(join "${video_decoders[@]}" "${audio_decoders[@]}")" \
  --enable-encoder="$(join "${encoders[@]}")" \
  --enable-demuxer="$(join "${demuxers[@]}")" \
  --enable-muxer="$(join "${muxers[@]}")" \
  --enable-protocol="$(join "${protocols[@]}")" \
  --enable-filter="$(join "${filters[@]}")" \
  --enable-parsers --enable-bsfs
make -j"$(nproc)"
make install
strip --strip-unneeded "$prefix"/bin/ffmpeg "$prefix"/bin/ffprobe "$prefix"/lib/lib*.so.*
rm -rf "$prefix"/include "$prefix"/lib/pkgconfig "$prefix"/share/ffmpeg/examples
