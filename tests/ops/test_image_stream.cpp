// SPDX-License-Identifier: MIT
// Streaming many image files (CPU path here; tests/gpu runs the same corpus on the GPU).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "ops/image_stream_corpus.hpp"

using namespace hetex;
using namespace hetex::image;

TEST(ImageStream, ThousandMixedImagesInOrderWithCorruptOnesNamed) {
  hetex_test::StreamCorpus corpus("cpu", 1000);
  const Pipeline p{.sigma = 1.2, .edges = Edges::magnitude};
  std::vector<std::size_t> order;
  StreamOptions options{.pipeline = p, .device = "cpu", .in_flight = 8};
  options.on_done = [&](std::size_t i, const FileJob&, const Status&) { order.push_back(i); };
  auto report = process_files(corpus.jobs, options);
  ASSERT_TRUE(report) << report.error().describe();
  std::size_t bad = 0;
  for (bool c : corpus.corrupt) bad += c;
  EXPECT_EQ(report->failed, bad);
  EXPECT_EQ(report->succeeded, corpus.jobs.size() - bad);
  EXPECT_EQ(report->device, "cpu");
  ASSERT_EQ(order.size(), corpus.jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) ASSERT_EQ(order[i], i) << "results are delivered in input order";
  std::size_t e = 0;
  for (std::size_t i = 0; i < corpus.jobs.size(); ++i) {
    if (corpus.corrupt[i]) {
      ASSERT_LT(e, report->errors.size());
      EXPECT_NE(report->errors[e++].message().find(corpus.jobs[i].input), std::string::npos);
      EXPECT_FALSE(std::filesystem::exists(corpus.jobs[i].output));
      continue;
    }
    auto written = load(corpus.jobs[i].output);
    ASSERT_TRUE(written) << written.error().describe();
    auto expected = run_cpu(p, view(corpus.inputs[i])).value();
    ASSERT_EQ(written->shape, expected.shape) << corpus.jobs[i].input;
    ASSERT_EQ(written->pixels, expected.pixels) << corpus.jobs[i].input;
  }
}

TEST(ImageStream, BadOptionsAreRefusedBeforeAnyFile) {
  std::vector<FileJob> none;
  EXPECT_EQ(process_files(none, {.pipeline = {.sigma = -1}}).error().code(), Errc::invalid_argument);
  EXPECT_EQ(process_files(none, {.pipeline = {.gray = true}, .device = "tpu"}).error().code(), Errc::invalid_argument);
  EXPECT_EQ(jobs_for_directory("/nonexistent/dir", "/tmp/x").error().code(), Errc::io);
}

TEST(ImageStream, StopEndsTheBatchAfterTheFilesAlreadyStarted) {
  hetex_test::StreamCorpus corpus("stop", 20);
  std::size_t asked = 0;
  StreamOptions options{.pipeline = {.gray = true}, .device = "cpu", .in_flight = 4};
  options.stop = [&] { return ++asked > 3; };  // asked once per file about to start
  auto report = process_files(corpus.jobs, options);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->succeeded + report->failed, 3u);
  for (std::size_t i = 0; i < corpus.jobs.size(); ++i)
    EXPECT_EQ(std::filesystem::exists(corpus.jobs[i].output), i < 3) << corpus.jobs[i].output;
}

TEST(ImageStream, NonRegularFilesAreRefusedWithoutBlocking) {
  hetex_test::StreamCorpus corpus("fifo", 3);
  const auto fifo = corpus.dir / "in" / "pipe.png";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::vector<FileJob> jobs = corpus.jobs;
  jobs.insert(jobs.begin() + 1, FileJob{fifo.string(), (corpus.dir / "out" / "pipe.png").string()});
  auto report = process_files(jobs, {.pipeline = {.gray = true}, .device = "cpu"});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->succeeded, 3u);
  ASSERT_EQ(report->errors.size(), 1u);
  EXPECT_NE(report->errors[0].message().find("pipe.png: is a FIFO"), std::string::npos) << report->errors[0].message();
}
