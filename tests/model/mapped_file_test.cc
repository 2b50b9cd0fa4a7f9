#include "model/mapped_file.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>
#include <sys/stat.h>  // chmod
#include <unistd.h>    // geteuid, sysconf

#include <cstdio>   // std::rename
#include <fstream>  // std::ifstream
#include <string>

#include "absl/status/status.h"  // absl::StatusCode
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"  // TempDir, WriteFileOrDie

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::accllm::testing::TempDir;
using ::accllm::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string AsString(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TEST(MappedFileTest, MapsWholeFile) {
  TempDir dir;
  const std::string contents = std::string("hello\0world", 11);
  WriteFileOrDie(dir / "f.bin", contents);
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(dir / "f.bin");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(AsString((*file)->bytes()), contents);
  EXPECT_EQ((*file)->path(), dir / "f.bin");
}

// Resident pages of this process (/proc/self/statm), as `top` and a container's limit count.
int64_t ResidentPages() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident;
}

TEST(MappedFileTest, DroppedPagesLeaveTheResidentSetAndReadBackTheSame) {
  TempDir dir;
  std::string contents(16 << 20, '\0');  // 16 MiB of a pattern
  for (size_t i = 0; i < contents.size(); ++i) contents[i] = static_cast<char>(i * 131 % 251);
  WriteFileOrDie(dir / "big.bin", contents);
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(dir / "big.bin");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(AsString((*file)->bytes()), contents);  // every page read: resident
  const int64_t page = ::sysconf(_SC_PAGESIZE);
  const int64_t before = ResidentPages();
  (*file)->DropResidentPages();
  const int64_t after = ResidentPages();
  EXPECT_GE(before - after, static_cast<int64_t>(contents.size()) / page / 2)
      << "resident pages " << before << " -> " << after;
  EXPECT_EQ(AsString((*file)->bytes()), contents);  // read again from the file
}

TEST(MappedFileTest, EmptyFileHasNoBytes) {
  TempDir dir;
  WriteFileOrDie(dir / "empty", "");
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(dir / "empty");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE((*file)->bytes().empty());
  (*file)->DropResidentPages();  // nothing mapped: nothing to do
}

TEST(MappedFileTest, MissingFileIsNotFoundNamingPathAndReason) {
  TempDir dir;
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(dir / "nope.bin");
  EXPECT_THAT(file,
              StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr((dir / "nope.bin").string()),
                                                          HasSubstr("No such file or directory"))));
}

TEST(MappedFileTest, RejectsDirectory) {
  TempDir dir;
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(dir.path());
  EXPECT_THAT(file,
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(dir.path().string()), HasSubstr("not a regular file"))));
}

TEST(MappedFileTest, UnreadableFileIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  TempDir dir;
  WriteFileOrDie(dir / "secret", "x");
  ASSERT_EQ(::chmod((dir / "secret").c_str(), 0), 0);
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(dir / "secret");
  EXPECT_THAT(file,
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr((dir / "secret").string())));
}

// Writers replace files by rename, so a live mapping keeps the old contents.
TEST(MappedFileTest, MappingSurvivesReplacementOfTheFile) {
  TempDir dir;
  WriteFileOrDie(dir / "f", "old contents");
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(dir / "f");
  ASSERT_TRUE(file.ok()) << file.status();
  WriteFileOrDie(dir / "g", "new");
  ASSERT_EQ(std::rename((dir / "g").c_str(), (dir / "f").c_str()), 0);
  EXPECT_EQ(AsString((*file)->bytes()), "old contents");
}

TEST(MappedFileTest, SharedOwnersKeepTheMappingAlive) {
  TempDir dir;
  WriteFileOrDie(dir / "f", "abc");
  std::shared_ptr<const MappedFile> copy;
  {
    absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(dir / "f");
    ASSERT_TRUE(file.ok()) << file.status();
    copy = *file;
  }
  EXPECT_EQ(AsString(copy->bytes()), "abc");
}

}  // namespace
}  // namespace accllm
