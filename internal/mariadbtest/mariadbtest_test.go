package mariadbtest

import "testing"

func TestStartHasBinlog(t *testing.T) {
	s := Start(t)
	db := s.DB(t, "inventory")
	var format, image, meta string
	if err := db.QueryRow("SELECT @@binlog_format, @@binlog_row_image, @@binlog_row_metadata").Scan(&format, &image, &meta); err != nil {
		t.Fatal(err)
	}
	if format != "ROW" || image != "FULL" || meta != "FULL" {
		t.Fatalf("binlog settings = %s %s %s, want ROW FULL FULL", format, image, meta)
	}
	s.Exec(t, "INSERT INTO warehouse VALUES (1, 'A', 1)")
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM warehouse").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
}
