use barks::prelude::*;

#[barks::job]
fn word_count(input: String, output: String) -> () {
    pipeline! {
        let lines = text_file(input);
        let counts = lines
            .flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .map(|(w, n)| format!("{w}\t{n}"));
        counts.save_as_text_file(output)
    }
}

fn main() {
    let dir = std::env::temp_dir().join(format!("barks-ui-word-count-{}", std::process::id()));
    let input = dir.join("input.txt");
    let output = dir.join("out");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&input, "a b a\nc b a\n").unwrap();
    word_count(input.display().to_string(), output.display().to_string())
        .run_on("local[2]")
        .unwrap();
    assert!(output.join("_SUCCESS").exists());
    let mut lines: Vec<String> = std::fs::read_dir(&output)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("part-"))
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    assert_eq!(lines, ["a\t3", "b\t2", "c\t1"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
